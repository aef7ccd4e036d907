"""The ingest service's settings (env ``LOA_*``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr

from loa.settings import LoaSettings

GIB = 1024**3
DEFAULT_MEDIA_TYPES = "image/jpeg,image/png,image/gif,image/webp,video/mp4,video/quicktime"


class Role(StrEnum):
    UPLOADER = "uploader"
    """May upload media."""
    PUBLISHER = "publisher"
    """May upload media and submit contents."""
    ADMIN = "admin"
    """May also retract."""


class ClientToken(BaseModel):
    token: SecretStr
    role: Role


class IngestSettings(LoaSettings):
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8080
    ingest_max_media_bytes: int = Field(default=2 * GIB, gt=0, description="413 above this")
    ingest_max_content_bytes: int = Field(default=16 * 1024 * 1024, gt=0, description="JSON body cap")
    ingest_media_types: str = Field(default=DEFAULT_MEDIA_TYPES, description="comma-separated")
    ingest_tokens: dict[str, ClientToken] = Field(
        default_factory=dict, description='JSON: {"cms": {"token": "...", "role": "publisher"}}'
    )

    @property
    def media_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.ingest_media_types.split(",") if t.strip())

"""Settings of the YouTube publisher (env ``LOA_YOUTUBE_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from loa.mode import platform_url
from loa.publisher.settings import PublisherSettings
from loa.settings import REPO_ROOT, is_local_url

SANDBOX_CA = REPO_ROOT / ".loa" / "sandbox-ca.pem"

SCOPES = ["https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube"]
"""What an account's grant must cover: upload, and manage its videos (update, delete, list the
channel's uploads, set thumbnails): https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps."""


class YouTubeSettings(PublisherSettings):
    # The rootUrl of the youtube v3 discovery document google-api-python-client bundles (its paths
    # carry youtube/v3/..., so the sandbox's root has no prefix either); https even in development:
    # the SDK keeps https for upload URLs.
    youtube_api_url: str = platform_url(
        real="https://youtube.googleapis.com", sandbox="https://127.0.0.1:8091", description="API root"
    )
    # google-auth's _GOOGLE_OAUTH2_TOKEN_ENDPOINT (google/oauth2/credentials.py)
    youtube_token_url: str = platform_url(
        real="https://oauth2.googleapis.com/token",
        sandbox="https://127.0.0.1:8091/token",
        description="OAuth 2.0 token endpoint",
    )
    youtube_ca_certs: Path | None = Field(
        default=None,
        description="CA bundle to trust; default: the sandbox CA for a local API URL, else the system's",
    )
    youtube_chunk_size: int = Field(
        default=8 * 1024 * 1024, ge=256 * 1024, description="resumable chunk, a multiple of 256 KiB"
    )
    youtube_upload_memory_mb: int = Field(
        default=32,
        ge=1,
        description="memory for the chunks of uploads in flight (two chunks each); beyond it uploads wait",
    )
    youtube_made_for_kids: bool = False
    youtube_category_id: str = Field(default="25", description="25 = News & Politics")
    youtube_privacy: Literal["public", "unlisted", "private"] = Field(
        default="public", description="privacy of immediate posts (an account option overrides it)"
    )
    youtube_native_min_lead_s: float = Field(
        default=120.0,
        gt=0,
        description="upload as private with publishAt only videos due at least this far ahead (the "
        "upload must finish before publishAt passes); nearer ones Loa holds and uploads at their time",
    )
    youtube_retract_mode: Literal["private", "delete"] = "private"
    youtube_daily_quota: int = Field(default=10_000, description="units/day shared by all but inserts")
    youtube_daily_uploads: int = Field(default=100, description="videos.insert calls/day")
    youtube_timeout_s: float = 120.0

    @model_validator(mode="after")
    def _chunk_granularity(self) -> YouTubeSettings:
        if self.youtube_chunk_size % (256 * 1024):
            raise ValueError("youtube_chunk_size must be a multiple of 256 KiB (262144 bytes)")
        return self

    def ca_certs(self) -> str | None:
        """The CA file for httplib2: the configured one, or the sandbox's for a local API URL."""
        if self.youtube_ca_certs is not None:
            return str(self.youtube_ca_certs)
        local = is_local_url(self.youtube_api_url)
        return str(SANDBOX_CA) if local and SANDBOX_CA.exists() else None

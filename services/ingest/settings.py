"""The ingest service's settings (env ``LOA_*``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator

from loa.access.principal import ALL_UNITS, Role
from loa.access.settings import AccessSettings
from loa.kafka import max_event_bytes
from loa.settings import BearerToken

GIB = 1024**3
ENVELOPE_RESERVE_BYTES = 8 * 1024
"""What the ingest adds around a submitted payload: the envelope (event id, type, producer, times),
the canonical URL and probed media sizes. A body that still grows past the limit once built
(e.g. ``rel`` added to many links) is refused with a 413 before it is produced."""
DEFAULT_MEDIA_TYPES = "image/jpeg,image/png,image/gif,image/webp,video/mp4,video/quicktime"


class LegacyRole(StrEnum):
    """The ingest's roles before ``loa.access`` (deprecated; ``services.ingest.auth.LEGACY_ROLES``)."""

    UPLOADER = "uploader"
    """May upload media only."""
    PUBLISHER = "publisher"
    """An editor."""


class ClientToken(BearerToken):
    setting = "LOA_INGEST_TOKENS"
    role: LegacyRole | Role
    units: tuple[str, ...] = (ALL_UNITS,)
    """The units of the role (``loa.access.units``); default every unit, as before units existed."""


class IngestSettings(AccessSettings):
    links_in_posts = True  # it fixes each content's canonical_url

    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8080
    ingest_max_media_bytes: int = Field(default=2 * GIB, gt=0, description="413 above this")
    ingest_media_types: str = Field(default=DEFAULT_MEDIA_TYPES, description="comma-separated")
    ingest_retractions_group: str = Field(
        default="loa-ingest-retractions",
        description="the consumer group in which the ingest reads retractions on loa.content.v1",
    )
    ingest_tokens: dict[str, ClientToken] = Field(
        default_factory=dict,
        description='deprecated (use loa tokens issue); JSON: {"cms": {"token": "...", "role": "editor", '
        '"units": ["Vụ Truyền thông và Báo chí"]}}',
    )

    two_person_units: list[str] = Field(
        default_factory=list,
        description='JSON ["Vụ Pháp chế"]: units (and those below) whose editors\' content waits for a '
        "spokesperson's approval before it goes to Kafka",
    )

    ingest_tracker_url: AnyHttpUrl | None = Field(
        default=None,
        description="the tracker, whose accounts table says which unit each account belongs to "
        "(GET /api/v1/account-units); unset: LOA_ACCOUNT_UNITS only (development)",
    )
    ingest_tracker_token: SecretStr = Field(
        default=SecretStr(""),
        description="a read-only service account's token for it (loa tokens issue ingest --grant viewer:*)",
    )
    ingest_account_units_ttl_s: float = Field(
        default=5.0, ge=0, description="how long a copy of the accounts' units serves before it is read again"
    )

    @model_validator(mode="after")
    def _tracker_token_given(self) -> IngestSettings:
        if self.ingest_tracker_url is not None and not self.ingest_tracker_token.get_secret_value():
            raise ValueError("LOA_INGEST_TRACKER_URL is set: LOA_INGEST_TRACKER_TOKEN is needed too")
        return self

    @property
    def max_content_body_bytes(self) -> int:
        """The JSON body cap: what Kafka takes (``LOA_KAFKA_MAX_MESSAGE_BYTES``) minus the envelope."""
        return max_event_bytes(self) - ENVELOPE_RESERVE_BYTES

    @property
    def media_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.ingest_media_types.split(",") if t.strip())

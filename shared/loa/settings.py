"""Settings shared by every service: pydantic-settings, prefix ``LOA_``, secrets never printed."""

from __future__ import annotations

import os
from ipaddress import ip_address
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loa.mode import PRODUCTION, Mode, refuse_sandbox_targets

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = REPO_ROOT / ".env.local"
CHECKOUT_PYTHONPATH = os.pathsep.join([str(REPO_ROOT / "shared"), str(REPO_ROOT)])
"""``PYTHONPATH`` of a Python process started from this checkout (``python -m services.<name>``, a
test's or a bench's child): Loa's library and the repository's packages."""
DATA_DIR = ".loa/data"
DEFAULT_CHANNELS = "website,facebook,zalo,youtube,x,webhook,email,tiktok"
MIN_TOKEN_LENGTH = 32
"""The shortest API token a service accepts: 32 random characters are beyond any online guessing.
(OWASP Authentication Cheat Sheet; ``secrets.token_urlsafe(32)`` makes 43.)"""


def is_local_url(url: str) -> bool:
    """Whether ``url`` points at this machine (the sandbox), not at a real platform."""
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def require_token_length(value: SecretStr, setting: str) -> SecretStr:
    """``value`` if long enough; a refusal names ``setting`` and never shows ``value``."""
    if len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"{setting} must be at least {MIN_TOKEN_LENGTH} characters "
            "(make one: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return value


class BearerToken(BaseModel):
    """One client's bearer token in a service's token table; a subclass adds the role it grants.

    The one owner of the length rule for every table (``LOA_INGEST_TOKENS``, ``LOA_TRACKER_TOKENS``):
    ``setting`` names the table in the refusal, which never shows the token.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)
    setting: ClassVar[str]

    token: SecretStr

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        return require_token_length(value, f"a token of {cls.setting}")


class LoaSettings(BaseSettings):
    """Base of every service's settings class; read from ``LOA_*`` and ``.env.local``."""

    # hide_input_in_errors: a refused setting's error names it but never shows its value (a secret)
    model_config = SettingsConfigDict(
        env_prefix="LOA_",
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    # Declared first: platform URL defaults (loa.mode.platform_url) are chosen by it.
    mode: Mode = Field(
        default=PRODUCTION,
        description="production (the default): real platforms only; development: the sandbox, shown as such",
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    # How every Kafka client signs in: loa.kafka_security turns these into the clients' settings.
    kafka_security_protocol: Literal["SASL_SSL", "PLAINTEXT"] = Field(
        default="SASL_SSL", description="SASL_SSL (required in production) or PLAINTEXT (development only)"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="PLAIN only over TLS, e.g. a broker's static admin credential"
    )
    kafka_sasl_username: str = Field(default="", description="the service's own principal (loa.kafka_acl)")
    kafka_sasl_password: SecretStr = Field(default=SecretStr(""), description="no usable default")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="the CA that signed the broker's certificate; default: the system's CAs"
    )
    kafka_max_message_bytes: int = Field(
        default=1_048_576,
        gt=0,
        description="the largest record a producer sends (aiokafka max_request_size); at most the "
        "broker's message.max.bytes (Kafka's default 1048588, kept by the local stack and compose)",
    )
    kafka_outbox_request_timeout_seconds: float = Field(
        default=40.0,
        gt=0,
        description="how long a batch of a publisher's outbox relay waits for the broker before it "
        "expires (aiokafka's request_timeout_ms default; the ingest's relay sets its own 10 s); a fault "
        "test shortens it to shorten the outage it must outlast",
    )
    s3_endpoint: str = "127.0.0.1:9000"
    s3_secure: bool = False
    s3_access_key: SecretStr = SecretStr("loa-dev")
    s3_secret_key: SecretStr = Field(default=SecretStr(""), description="no usable default")
    s3_media_bucket: str = "loa-media"
    s3_website_bucket: str = "loa-website"
    s3_archive_bucket: str = Field(
        default="loa-archive",
        description="the archive of record (loa.archive): made with object lock by the setup",
    )
    database_url: str = "sqlite+aiosqlite:///.loa/data/loa.db"
    api_token: SecretStr = Field(default=SecretStr(""), description="admin token for the HTTP APIs")
    website_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8082")
    tracker_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8081")
    ingest_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8080")
    sandbox_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8090")
    log_level: str = "INFO"
    topic_prefix: str = Field(default="", description="isolates tests and tenants on one broker")
    channels: str = Field(
        default=DEFAULT_CHANNELS,
        description="the channels a publisher runs for, comma-separated: a target of another is refused",
    )

    publisher_database_url: str | None = Field(
        default=None,
        description="the publishers' job stores (jobs, accounts); default: a SQLite file per channel",
    )

    @field_validator("api_token")
    @classmethod
    def _api_token_long_enough(cls, value: SecretStr) -> SecretStr:
        """Empty (no admin token) or at least ``MIN_TOKEN_LENGTH`` characters."""
        return require_token_length(value, "LOA_API_TOKEN") if value.get_secret_value() else value

    links_in_posts: ClassVar[bool] = False
    """Whether this service writes ``LOA_WEBSITE_BASE_URL`` into what citizens see (the ingest's
    canonical links, the publishers' posts, the website): production then needs a public https one."""

    @model_validator(mode="after")
    def _platforms_only_in_production(self) -> LoaSettings:
        website = str(self.website_base_url) if self.links_in_posts else None
        refuse_sandbox_targets(self, self.mode, str(self.sandbox_url), website)
        return self

    @model_validator(mode="after")
    def _kafka_secured_in_production(self) -> LoaSettings:
        """Production never speaks PLAINTEXT to Kafka: anyone on the network could forge events."""
        if self.mode == PRODUCTION and self.kafka_security_protocol != "SASL_SSL":
            raise ValueError(
                "LOA_KAFKA_SECURITY_PROTOCOL must be SASL_SSL in production (LOA_MODE=production): "
                "PLAINTEXT lets anyone who reaches the broker read and forge events"
            )
        return self

    def job_store_url(self, channel: str) -> str:
        """A channel's job store: ``LOA_PUBLISHER_DATABASE_URL`` or ``.loa/data/publisher-<channel>.db``.

        Shared: the publisher runs on it, ``loa accounts`` and the ingest read its account names.
        """
        if self.publisher_database_url:
            return self.publisher_database_url
        return f"sqlite+aiosqlite:///{DATA_DIR}/publisher-{channel}.db"

    @property
    def channel_names(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.channels.split(",") if c.strip())

    def topic(self, name: str) -> str:
        """The full topic name for ``name`` (e.g. ``loa.content.v1``) under ``topic_prefix``."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """The consumer group ``name`` (e.g. ``loa-publisher-zalo``) under ``topic_prefix``: tests and
        tenants that share a broker never share a group, whose stale members would hold up (or, with
        other topics, break) each other's rebalances."""
        return f"{self.topic_prefix}{name}"

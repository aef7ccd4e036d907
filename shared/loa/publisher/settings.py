"""Settings every channel publisher shares; a channel's own class extends this one."""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr

from loa.settings import DATA_DIR, LoaSettings

__all__ = ["DATA_DIR", "PublisherSettings"]


class PublisherSettings(LoaSettings):
    """A channel's settings subclass adds ``<channel>_*`` fields (env ``LOA_<CHANNEL>_*``)."""

    links_in_posts = True

    credentials_key: SecretStr = Field(
        default=SecretStr(""), description="Fernet key that encrypts account credentials at rest"
    )
    accounts_file: str | None = Field(default=None, description="YAML file to seed accounts from")
    publisher_port: int | None = Field(
        default=None,
        description="port of /healthz and /metrics; default: the adapter's metrics_port, 0 = any free port",
    )
    publisher_host: str = "127.0.0.1"
    publisher_replica_id: str = Field(
        default_factory=socket.gethostname,
        description="stable per replica: a restarted replica takes back its own in-doubt jobs at once",
    )
    publisher_concurrency: int = Field(
        default=32,
        ge=1,
        le=256,
        description="deliveries in flight; mostly waiting on the platform, each SDK call in its own thread",
    )
    publisher_lease_seconds: float = Field(default=60.0, gt=1)
    publisher_poll_seconds: float = Field(default=0.2, gt=0)
    publisher_claim_batch: int = Field(default=64, ge=1, le=1000)
    publisher_intake_backlog: int = Field(
        default=1000,
        ge=1,
        description="jobs due and not yet begun above which intake leaves new normal contents in "
        "Kafka (urgent contents and retractions still come in); it goes on at half of it",
    )
    publisher_intake_linger_ms: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="after a batch short of the most intake takes at once (BATCH_MAX in loa.publisher.main), "
        "how long intake waits before its next poll "
        "while the next batch gathers (0: at once); a content waits at most this long more",
    )
    publisher_relay_linger_ms: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="after a commit wakes the outbox relay, how long it lets other commits add their "
        "status events before one read, produce and write for them all (0: at once); a status "
        "reaches Kafka at most this long later, its occurred_at is its transaction's",
    )
    publisher_fetch_wait_ms: int = Field(
        default=500,
        ge=1,
        le=1000,
        description="Kafka's fetch.max.wait.ms of the content and commands subscribers (aiokafka's "
        "default): how long the broker holds a fetch while nothing is there; a record is answered "
        "at once. A stop waits for the fetch in flight (the broker reads the close only after it)",
    )
    publisher_backoff_base_seconds: float = Field(default=2.0, gt=0)
    publisher_backoff_cap_seconds: float = Field(default=900.0, gt=0)
    publisher_max_attempts: int = Field(default=12, ge=1, description="transient failures before `failed`")
    publisher_confirm_interval_seconds: float = Field(
        default=30.0, gt=0, description="how often a natively scheduled post past due is checked"
    )
    publisher_shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    publisher_gauge_seconds: float = Field(
        default=5.0, gt=0, description="how often the job-count and consumer-lag gauges are refreshed"
    )
    publisher_account_check_seconds: float = Field(
        default=86400.0, gt=0, description="how often each account's check_account runs (first: at start)"
    )

    def metrics_port(self, declared: int) -> int:
        """``LOA_PUBLISHER_PORT`` if set, else the port the channel's adapter declares."""
        return declared if self.publisher_port is None else self.publisher_port

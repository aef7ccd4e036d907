"""Settings of the listener (env ``LOA_LISTENER_*`` plus the shared ``LOA_*`` ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from loa.kafka_acl import LISTENER_GROUP
from loa.settings import DATA_DIR, LoaSettings
from services.listener.schedule import Read, Schedule


class ListenerSettings(LoaSettings):
    listener_host: str = "127.0.0.1"
    listener_port: int = Field(default=9108, description="/livez, /readyz, /metrics")
    listener_group_id: str = LISTENER_GROUP
    listener_database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DATA_DIR}/listener.db",
        description="the followed posts and their schedule (PostgreSQL in production)",
    )
    listener_schedule: str = Field(
        default="10m,1h,6h,24h,7d", description="reads of the figures after publication"
    )
    listener_comment_schedule: str = Field(
        default="10m,20m,40m,1h,2h,4h,8h,24h",
        description="reads of the comments after publication (denser: the watch sees a burst sooner)",
    )
    listener_then_every: str = Field(default="1d", description="then one poll this often")
    listener_follow_for: str = Field(default="30d", description="until this long after publication")
    listener_concurrency: int = Field(default=8, ge=1, description="polls in flight at once")
    listener_batch: int = Field(default=100, ge=1, description="posts claimed at once")
    listener_lease_s: float = Field(default=120.0, gt=0, description="a claimed post is this replica's")
    listener_idle_s: float = Field(default=5.0, gt=0, description="longest sleep between claims")
    listener_retry_base_s: float = Field(default=30.0, gt=0, description="backoff after a transient error")
    listener_retry_cap_s: float = Field(default=3600.0, gt=0)
    listener_auth_wait_s: float = Field(default=3600.0, gt=0, description="wait after refused credentials")
    listener_youtube_daily_units: int = Field(
        default=2000,
        ge=0,
        description="the listener's share of the project's 10,000 YouTube units a day "
        "(publishing keeps the rest)",
    )
    credentials_key: SecretStr = Field(
        default=SecretStr(""), description="LOA_CREDENTIALS_KEY: opens the accounts' read credentials"
    )

    @model_validator(mode="after")
    def _schedule_parses(self) -> ListenerSettings:
        self.schedules()  # a bad table is refused at start, naming the setting
        return self

    def schedule(self) -> Schedule:
        """The figures' table."""
        return self.schedules()[Read.FIGURES]

    def schedules(self) -> dict[Read, Schedule]:
        """Each kind of read's table: its steps, then every ``THEN_EVERY`` until ``FOLLOW_FOR``."""
        tables = {Read.FIGURES: ("SCHEDULE", self.listener_schedule),
                  Read.COMMENTS: ("COMMENT_SCHEDULE", self.listener_comment_schedule)}  # fmt: skip
        out = {}
        for read, (name, steps) in tables.items():
            try:
                out[read] = Schedule.of(steps, self.listener_then_every, self.listener_follow_for)
            except ValueError as e:
                raise ValueError(f"LOA_LISTENER_{name}/THEN_EVERY/FOLLOW_FOR: {e}") from e
        return out

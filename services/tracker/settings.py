"""Tracker settings: ``LOA_TRACKER_*`` plus the shared ``LOA_*`` ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from loa.access.principal import ALL_UNITS, Role
from loa.access.settings import AccessSettings
from loa.archive.settings import ArchiveAccess
from loa.events import DeliveryState
from loa.kafka_acl import TRACKER_GROUP
from loa.mode import PRODUCTION, platform_url
from loa.settings import BearerToken, is_local_url


class ApiToken(BearerToken):
    """One bearer token: the name is what the audit trail shows, never the token."""

    setting = "LOA_TRACKER_TOKENS"
    role: Role
    units: tuple[str, ...] = (ALL_UNITS,)
    """The units of the role (``loa.access.units``); operators and admins serve every unit anyway."""


RETRY_PAUSE_S = 1.0
"""The pause before a failed batch is fetched again (``consumer``); no fetch is held longer."""
_RETRY_PAUSE_MS = int(RETRY_PAUSE_S * 1000)

DEFAULT_ALERT_STATES = (DeliveryState.FAILED, DeliveryState.NEEDS_ATTENTION, DeliveryState.RETRACT_FAILED)


class AlertHook(BaseModel):
    """An outbound webhook signed with HMAC-SHA256; ``units`` empty = every unit."""

    model_config = ConfigDict(frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    url: AnyHttpUrl
    secret: SecretStr = Field(min_length=16)
    states: tuple[DeliveryState, ...] = DEFAULT_ALERT_STATES
    units: tuple[str, ...] = ()
    watch: bool = True
    """Also the misinformation watch's alerts (``watch.alert``) of its units."""

    def wants(self, state: str, unit: str | None) -> bool:
        return state in self.states and self.covers(unit)

    def covers(self, unit: str | None) -> bool:
        return not self.units or unit in self.units


class TrackerSettings(AccessSettings, ArchiveAccess):
    tracker_host: str = "127.0.0.1"
    tracker_port: int = 8081
    tracker_group_id: str = TRACKER_GROUP
    tracker_tokens: dict[str, ApiToken] = Field(
        default_factory=dict,
        description='deprecated (use loa tokens issue); JSON: {"name": {"token": "...", "role": '
        '"viewer|editor|spokesperson|operator|admin", "units": ["Vụ Truyền thông và Báo chí"]}}',
    )
    tracker_batch_max: Annotated[int, Field(ge=1, le=5000)] = 1000
    tracker_batch_timeout_ms: Annotated[int, Field(ge=1, le=5000)] = 50
    tracker_quiet_batch_timeout_ms: Annotated[int, Field(ge=1, le=5000)] = 1000
    """``tracker_batch_timeout_ms`` of the commands, audit and engagement subscribers: how long
    FastStream waits for records, and then sleeps, when a fetch brings none. Those topics carry a
    few events a minute, whose readers (dead letters, the audit chain, the listener's samples and
    comments) lose nothing to a second's wait; each idle subscriber then turns once a second, not
    ten times (issue #20: the idle tracker's CPU, docs/benchmarks.md)."""
    tracker_fetch_wait_ms: Annotated[int, Field(ge=1, le=_RETRY_PAUSE_MS)] = _RETRY_PAUSE_MS
    """Kafka's ``fetch.max.wait.ms`` of every subscriber (``consumer.quiet_fetch``
    says why a second). At most a second: a rewound batch and ``/metrics``' lag read wait behind a
    held fetch. A stop waits for the fetch in flight too (the broker reads the client's close only
    once it has answered the fetch): the tests set it short."""
    tracker_status_linger_ms: Annotated[int, Field(ge=0, le=2000)] = 500
    """How long the status and content subscriber waits after a batch short of
    ``tracker_batch_max`` while the next gathers (0: at once; ``loa.kafka.linger_after``).

    Every batch costs the same fixed work (a transaction, an offset commit, the SQL of each table),
    so at a steady rate small batches cost ~10x the CPU per event of large ones; in a steady stream
    the view is up to this much later on the dashboard, an event after a quiet spell is not.
    500 ms: at 100 deliveries a second the tracker's CPU a delivery is 0.35 ms, against 0.46-0.49
    at 200 ms and 0.27 at 1 s (``bench/tracker.py --rate 400``; docs/benchmarks.md, "Session 32")."""
    tracker_alerts: tuple[AlertHook, ...] = ()
    tracker_alerts_file: Path | None = Field(default=None, description="YAML list of alert hooks")
    tracker_alert_max_attempts: Annotated[int, Field(ge=1)] = 12
    tracker_alert_poll_s: Annotated[float, Field(gt=0)] = 1.0
    tracker_on_time_s: Annotated[float, Field(gt=0)] = 60.0
    tracker_watch_spike_factor: Annotated[float, Field(gt=1)] = 3.0
    """k of the volume rule: comments in the last hour at k × the post's trailing hourly rate."""
    tracker_watch_spike_min: Annotated[int, Field(ge=1)] = 10
    tracker_watch_baseline_h: Annotated[int, Field(ge=1, le=168)] = 6
    tracker_cookie_secure: bool | None = Field(
        default=None,
        description="the session cookie's Secure flag; default: on unless the tracker listens on loopback "
        "(the development stack's plain http)",
    )
    oidc_client_secret: SecretStr = Field(default=SecretStr(""), description="the tracker's client secret")
    oidc_redirect_url: AnyHttpUrl | None = Field(
        default=None,
        description="the callback registered at the provider, https://<tracker>/auth/callback; "
        "unset (development only): derived from the request",
    )
    oidc_scopes: str = "openid email profile groups"
    credentials_key: SecretStr = Field(
        default=SecretStr(""),
        description="LOA_CREDENTIALS_KEY: encrypts credentials given to the accounts API for the publishers",
    )
    zalo_oauth_url: str = platform_url(
        real="https://oauth.zaloapp.com",
        sandbox="http://127.0.0.1:8090/zalo/oauth",
        description="Zalo OA OAuth v4, for Connect on the accounts page",
    )
    # Connect on the accounts page (services/<channel>/connect.py); the publishers' settings of the
    # same names point at the same platforms (here the sandbox's plain-http port in development).
    facebook_dialog_url: str = platform_url(
        real="https://www.facebook.com",
        sandbox="http://127.0.0.1:8090/facebook",
        description="Facebook Login dialog base URL, without version",
    )
    facebook_graph_url: str = platform_url(
        real="https://graph.facebook.com",
        sandbox="http://127.0.0.1:8090/graph",
        description="Graph API base URL without version (code exchange, me/accounts)",
    )
    facebook_graph_version: str = Field(default="v24.0", pattern=r"^v\d+\.\d+$")
    youtube_auth_url: str = platform_url(
        real="https://accounts.google.com/o/oauth2/v2/auth",
        sandbox="http://127.0.0.1:8090/o/oauth2/v2/auth",
        description="Google's OAuth 2.0 authorization endpoint",
    )
    youtube_token_url: str = platform_url(
        real="https://oauth2.googleapis.com/token",
        sandbox="http://127.0.0.1:8090/token",
        description="Google's OAuth 2.0 token endpoint",
    )
    youtube_api_url: str = platform_url(
        real="https://youtube.googleapis.com",
        sandbox="http://127.0.0.1:8090",
        description="YouTube Data API root (channels.list)",
    )
    x_authorize_url: str = platform_url(
        real="https://twitter.com/i/oauth2/authorize",
        sandbox="http://127.0.0.1:8090/x/i/oauth2/authorize",
        description="X's OAuth 2.0 authorization page",
    )
    x_api_url: str = platform_url(
        real="https://api.twitter.com",
        sandbox="http://127.0.0.1:8090/x",
        description="X API v2 base (OAuth 2.0 token, users/me)",
    )
    tracker_ingest_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8080"),
        description="the ingest's API, which the approvals page calls with the signed-in person's ID token",
    )
    tracker_consume: bool = Field(default=True, description="run the Kafka consumers (off: API only)")
    tracker_publisher_health: dict[str, AnyHttpUrl] | None = Field(
        default=None,
        description='JSON {"facebook": "http://127.0.0.1:9102/readyz"}: publishers shown on the dashboard; '
        "unset: each installed channel's on this host, at its adapter's port (installed_publishers)",
    )

    @field_validator("tracker_tokens", "tracker_publisher_health", mode="before")
    @classmethod
    def _tokens_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _oidc_complete(self) -> TrackerSettings:
        """Personal sign-in needs its client; production needs https and a registered callback."""
        if self.oidc_issuer is None:
            return self
        if not self.oidc_client_id or not self.oidc_client_secret.get_secret_value():
            raise ValueError(
                "LOA_OIDC_ISSUER is set: LOA_OIDC_CLIENT_ID and LOA_OIDC_CLIENT_SECRET are needed too"
            )
        if self.mode == PRODUCTION:
            if self.oidc_issuer.scheme != "https":
                raise ValueError("LOA_OIDC_ISSUER must be an https:// URL in production")
            if self.oidc_redirect_url is None or self.oidc_redirect_url.scheme != "https":
                raise ValueError("LOA_OIDC_REDIRECT_URL must be set to an https:// URL in production")
        return self

    @property
    def cookie_secure(self) -> bool:
        # TODO(LOA_MODE): decide by the deployment's mode once the settings have one, not by the address
        if self.tracker_cookie_secure is not None:
            return self.tracker_cookie_secure
        return not is_local_url(f"http://{self.tracker_host}")

    def alert_hooks(self) -> tuple[AlertHook, ...]:
        """Hooks from settings and from the YAML file, if any."""
        hooks = list(self.tracker_alerts)
        if self.tracker_alerts_file is not None:
            import yaml  # only with an alerts file: not every tracker's memory

            raw = yaml.safe_load(self.tracker_alerts_file.read_text(encoding="utf-8")) or []
            hooks.extend(AlertHook.model_validate(item) for item in raw)
        return tuple(hooks)

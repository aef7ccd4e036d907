"""Tracker settings: ``LOA_TRACKER_*`` plus the shared ``LOA_*`` ones."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator

from loa.channels import registry
from loa.events import DeliveryState
from loa.kafka_acl import TRACKER_GROUP
from loa.settings import LoaSettings, is_local_url, require_token_length


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "operator": 1, "admin": 2}[self.value]


class ApiToken(BaseModel):
    """One bearer token: the name is what the audit trail shows, never the token."""

    # a refused token is never echoed in the error that names it
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    token: SecretStr
    role: Role

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        return require_token_length(value, "a token of LOA_TRACKER_TOKENS")


DEFAULT_ALERT_STATES = (DeliveryState.FAILED, DeliveryState.NEEDS_ATTENTION, DeliveryState.RETRACT_FAILED)


class AlertHook(BaseModel):
    """An outbound webhook signed with HMAC-SHA256; ``units`` empty = every unit."""

    model_config = ConfigDict(frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    url: AnyHttpUrl
    secret: SecretStr = Field(min_length=16)
    states: tuple[DeliveryState, ...] = DEFAULT_ALERT_STATES
    units: tuple[str, ...] = ()

    def wants(self, state: str, unit: str | None) -> bool:
        return state in self.states and (not self.units or unit in self.units)


def _installed_publishers() -> dict[str, AnyHttpUrl]:
    """The readiness URL of each installed channel's publisher, at the port its adapter declares."""
    return {
        name: AnyHttpUrl(f"http://127.0.0.1:{adapter.metrics_port}/readyz")
        for name, adapter in registry.load_entry_points().items()
        if adapter.metrics_port
    }


class TrackerSettings(LoaSettings):
    tracker_host: str = "127.0.0.1"
    tracker_port: int = 8081
    tracker_group_id: str = TRACKER_GROUP
    tracker_tokens: dict[str, ApiToken] = Field(
        default_factory=dict, description='JSON: {"name": {"token": "...", "role": "viewer|operator|admin"}}'
    )
    tracker_batch_max: Annotated[int, Field(ge=1, le=5000)] = 1000
    tracker_batch_timeout_ms: Annotated[int, Field(ge=1, le=5000)] = 50
    tracker_alerts: tuple[AlertHook, ...] = ()
    tracker_alerts_file: Path | None = Field(default=None, description="YAML list of alert hooks")
    tracker_alert_max_attempts: Annotated[int, Field(ge=1)] = 12
    tracker_alert_poll_s: Annotated[float, Field(gt=0)] = 1.0
    tracker_on_time_s: Annotated[float, Field(gt=0)] = 60.0
    tracker_cookie_secure: bool | None = Field(
        default=None,
        description="the session cookie's Secure flag; default: on unless the tracker listens on loopback "
        "(the development stack's plain http)",
    )
    tracker_consume: bool = Field(default=True, description="run the Kafka consumers (off: API only)")
    tracker_publisher_health: dict[str, AnyHttpUrl] = Field(
        default_factory=_installed_publishers,
        description='JSON {"facebook": "http://127.0.0.1:9102/readyz"}: publishers shown on the dashboard',
    )

    @field_validator("tracker_tokens", "tracker_publisher_health", mode="before")
    @classmethod
    def _tokens_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @property
    def cookie_secure(self) -> bool:
        # TODO(LOA_MODE): decide by the deployment's mode once the settings have one, not by the address
        if self.tracker_cookie_secure is not None:
            return self.tracker_cookie_secure
        return not is_local_url(f"http://{self.tracker_host}")

    def all_tokens(self) -> dict[str, ApiToken]:
        """Configured tokens plus ``LOA_API_TOKEN`` as the admin named ``admin``."""
        tokens = dict(self.tracker_tokens)
        admin = self.api_token.get_secret_value()
        if admin:
            tokens.setdefault("admin", ApiToken(token=SecretStr(admin), role=Role.ADMIN))
        return tokens

    def alert_hooks(self) -> tuple[AlertHook, ...]:
        """Hooks from settings and from the YAML file, if any."""
        hooks = list(self.tracker_alerts)
        if self.tracker_alerts_file is not None:
            raw = yaml.safe_load(self.tracker_alerts_file.read_text(encoding="utf-8")) or []
            hooks.extend(AlertHook.model_validate(item) for item in raw)
        return tuple(hooks)

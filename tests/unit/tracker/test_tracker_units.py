"""Pure pieces of the tracker: percentiles, tokens and sessions, settings masking, alerts, labels."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from pydantic import SecretStr

from loa.access.policy import Action, Policy
from loa.access.principal import ALL_UNITS, Grant, Role
from loa.access.tokens import TokenStore
from loa.access.units import UnitTree
from loa.events import DeliveryState, ErrorClass, utcnow
from loa.settings import REPO_ROOT
from services.tracker.alerts import backoff, sign
from services.tracker.auth import Authenticator, bearer_tokens
from services.tracker.db import make_engine, migrate
from services.tracker.i18n import Translator
from services.tracker.metrics import TrackerMetrics
from services.tracker.queries import percentile
from services.tracker.sessions import Sessions
from services.tracker.settings import AlertHook, ApiToken, TrackerSettings
from services.tracker.views import DeliveryOut, LastError

pytestmark = pytest.mark.unit
TOKEN = "operator-token-0123456789abcdef-0123456789"


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([30.0, 10.0], 50) == 10.0
    assert percentile([30.0, 10.0], 95) == 30.0
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0


async def test_tokens_roles_and_sessions(tmp_path: Path) -> None:
    settings = TrackerSettings(tracker_tokens={"ops": ApiToken(token=SecretStr(TOKEN), role=Role.OPERATOR)})
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    auth = Authenticator(bearer_tokens(settings, TokenStore(engine)), Policy(UnitTree()))
    who = auth.tokens.configured(TOKEN)
    assert who is not None
    may = [auth.policy.may(who, a, "Vụ Pháp chế") for a in (Action.READ, Action.RETRY, Action.RETRACT)]
    assert (who.name, may) == ("ops", [True, True, False])
    assert auth.tokens.configured(TOKEN[:-1] + "x") is None
    await migrate(engine)
    sessions = Sessions(engine)
    session = await sessions.open(who)
    assert TOKEN not in session
    found = await auth.by_session(sessions, session)
    assert found == who
    assert await auth.by_session(sessions, session + "0") is None
    await engine.dispose()


def test_settings_read_tokens_from_json_and_never_show_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOA_TRACKER_TOKENS", json.dumps({"an": {"token": TOKEN, "role": "viewer"}}))
    monkeypatch.setenv("LOA_API_TOKEN", "admin-token-0123456789abcdef-0123456789")
    settings = TrackerSettings()
    tokens = bearer_tokens(settings, TokenStore.at("sqlite+aiosqlite://"))
    viewer = tokens.configured(TOKEN)
    admin = tokens.configured("admin-token-0123456789abcdef-0123456789")
    assert viewer is not None and admin is not None
    assert {(viewer.name, *viewer.grants), (admin.name, *admin.grants)} == {
        ("an", Grant(Role.VIEWER, ALL_UNITS)),
        ("admin", Grant(Role.ADMIN, ALL_UNITS)),
    }
    shown = repr(settings) + str(settings.model_dump()) + repr(viewer) + repr(admin)
    assert TOKEN not in shown
    assert "admin-token-0123456789abcdef-0123456789" not in shown


def test_alert_hooks_choose_states_and_units_and_sign_bodies() -> None:
    hook = AlertHook(
        name="ops", url="http://127.0.0.1:1/h", secret=SecretStr("s" * 16), units=("Văn phòng Bộ",)
    )
    assert hook.wants("failed", "Văn phòng Bộ")
    assert not hook.wants("failed", "Vụ Pháp chế")
    assert not hook.wants("published", "Văn phòng Bộ")
    body = b'{"state":"failed"}'
    expected = hmac.new(b"s" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(b"s" * 16, "1700000000", body) == f"sha256={expected}"
    assert 1.0 <= backoff(1).total_seconds() <= 2.0
    assert backoff(30).total_seconds() <= 3600


def _delivery(state: DeliveryState, error: LastError | None) -> DeliveryOut:
    now = utcnow()
    return DeliveryOut(
        id="c:facebook:p",
        content_id="c",
        channel="facebook",
        account="p",
        version=1,
        state=state,
        sequence=2,
        attempt=1,
        due_at=None,
        state_at=now,
        published_at=None,
        external_id=None,
        public_url=None,
        last_error=error,
        note=None,
    )


def test_reasons_in_plain_vietnamese_and_english() -> None:
    d = _delivery(
        DeliveryState.FAILED, LastError(error_class=ErrorClass.AUTH, code="190", message="Session expired")
    )
    assert Translator("vi").reason(d) == (
        "Tài khoản cần được kết nối lại: mã truy cập hết hạn hoặc thiếu quyền. Session expired [190]"
    )
    assert Translator("en").reason(d).startswith("The account must be reconnected")
    assert Translator("xx").state("needs_attention") == "Cần xử lý"
    assert Translator("vi").time(None) == "—"


def test_the_grafana_dashboard_uses_only_metrics_the_tracker_exposes() -> None:
    exposed = generate_latest(TrackerMetrics().registry).decode()
    names = set(re.findall(r"^# TYPE (\w+) (\w+)", exposed, re.MULTILINE))
    series = {n for n, _ in names} | {f"{n}_total" for n, k in names if k == "counter"}
    series |= {f"{n}_bucket" for n, k in names if k == "histogram"}
    dashboard = json.loads(
        (REPO_ROOT / "deploy" / "grafana" / "loa-tracker.json").read_text(encoding="utf-8")
    )
    used = {m for p in dashboard["panels"] for t in p["targets"] for m in re.findall(r"\bloa_\w+", t["expr"])}
    assert used
    assert used <= series, used - series

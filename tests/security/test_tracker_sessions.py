"""Dashboard sessions are server-side: a random cookie, revoked on sign-out, ended at expiry."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from loa.events import utcnow
from loa.settings import LoaSettings
from services.tracker.context import Tracker
from services.tracker.settings import TrackerSettings
from services.tracker.tables import dashboard_sessions
from tests.integration.tracker.support import TOKENS
from tests.security.tracker_support import browser, session_of, sign_in, tracker_app, with_session

pytestmark = pytest.mark.integration
CONTENTS = "/api/v1/contents"


async def test_a_cookie_replayed_after_sign_out_is_refused(settings: LoaSettings, db_url: str) -> None:
    async with tracker_app(settings, db_url) as app, browser(app) as client:
        session = session_of(await sign_in(client))
        client.cookies.clear()
        assert (await client.get(CONTENTS, headers=with_session(session))).status_code == 200

        signed_out = await client.post("/logout", headers=with_session(session))
        assert signed_out.status_code == 303
        assert 'loa_tracker_session=""' in signed_out.headers["set-cookie"]  # the browser forgets it

        replayed = await client.get(CONTENTS, headers=with_session(session))
        assert replayed.status_code == 401
        page = await client.get("/", headers=with_session(session))
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2F")


async def test_an_expired_session_is_refused(settings: LoaSettings, sqlite_url: str) -> None:
    async with tracker_app(settings, sqlite_url) as app, browser(app) as client:
        session = session_of(await sign_in(client))
        client.cookies.clear()
        tracker: Tracker = app.state.tracker
        async with tracker.engine.begin() as conn:
            row = (await conn.execute(select(dashboard_sessions))).one()
            assert row.expires_at - row.created_at == timedelta(hours=12)
            await conn.execute(update(dashboard_sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert (await client.get(CONTENTS, headers=with_session(session))).status_code == 401


async def test_the_cookie_is_random_and_the_database_keeps_only_its_digest(
    settings: LoaSettings, sqlite_url: str
) -> None:
    token = TOKENS["operator"]
    async with tracker_app(settings, sqlite_url) as app, browser(app) as client:
        first, second = session_of(await sign_in(client)), session_of(await sign_in(client))
        tracker: Tracker = app.state.tracker
        async with tracker.engine.connect() as conn:
            rows = (await conn.execute(select(dashboard_sessions))).all()
    assert first != second  # nothing derived from the token alone: each sign-in is new
    for cookie in (first, second):
        assert token not in cookie
        assert hashlib.sha256(token.encode()).hexdigest() not in cookie
        assert (
            hmac.new(token.encode(), b"loa-tracker-session:operator", hashlib.sha256).hexdigest()
            not in cookie
        )
        assert len(cookie) >= 43  # 32 random bytes, URL-safe base64
    stored = {r.id_sha256 for r in rows}
    assert stored == {hashlib.sha256(c.encode()).hexdigest() for c in (first, second)}
    assert {(r.principal, r.kind, tuple(map(tuple, r.grants))) for r in rows} == {
        ("operator", "service", (("operator", "*"),))
    }
    assert not any(first in str(tuple(r)) or second in str(tuple(r)) for r in rows)


async def test_a_session_ends_when_its_token_is_no_longer_configured(
    settings: LoaSettings, sqlite_url: str
) -> None:
    async with tracker_app(settings, sqlite_url) as app, browser(app) as client:
        session = session_of(await sign_in(client))
    without_operator = {n: {"token": t, "role": n} for n, t in TOKENS.items() if n != "operator"}
    async with (
        tracker_app(settings, sqlite_url, tracker_tokens=without_operator) as app,
        browser(app) as client,
    ):
        assert (await client.get(CONTENTS, headers=with_session(session))).status_code == 401


async def test_the_cookie_is_secure_unless_served_on_loopback(settings: LoaSettings, sqlite_url: str) -> None:
    async with tracker_app(settings, sqlite_url, tracker_host="0.0.0.0") as app, browser(app) as client:
        cookie = (await sign_in(client)).headers["set-cookie"].lower()
    assert "secure" in cookie.split("; ")
    assert {"httponly", "samesite=strict"} <= set(cookie.split("; "))
    assert not TrackerSettings(tracker_host="127.0.0.1").cookie_secure
    assert not TrackerSettings(tracker_host="localhost").cookie_secure
    assert TrackerSettings(tracker_host="10.0.0.5").cookie_secure
    assert not TrackerSettings(tracker_host="10.0.0.5", tracker_cookie_secure=False).cookie_secure

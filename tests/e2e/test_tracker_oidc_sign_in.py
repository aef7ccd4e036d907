"""People sign in to the dashboard through the local stack's OpenID Connect provider, in Chromium
(screenshots to docs/img with ``LOA_UPDATE_SCREENSHOTS=1``).

The provider is real (Ory Hydra: code flow, PKCE, signed ID tokens); the people are the development
ones of deploy/local/oidc_people.json, their units and roles carried by the ``groups`` claim.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from loa.settings import LoaSettings
from services.tracker.context import Tracker
from services.tracker.tables import dashboard_sessions
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import running_tracker, tracker_settings
from tests.support.oidc import ISSUER, Client, oidc_client, oidc_provider, password

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
__all__ = ["oidc_client", "oidc_provider"]  # fixtures, used by name


@asynccontextmanager
async def signed_in_browser(
    settings: LoaSettings, db_url: str, client: Client
) -> AsyncIterator[tuple[Any, str, Tracker]]:
    """A tracker whose callback is registered at the provider, and a Chromium page."""
    from playwright.async_api import async_playwright

    config = tracker_settings(settings, db_url, tracker_consume=False, **client.settings())
    async with running_tracker(config) as (app, http), async_playwright() as pw:
        base = str(http.base_url).rstrip("/")
        client.register(base)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            yield page, base, app.state.tracker
        finally:
            await browser.close()


async def at_provider(page: Any, base: str, username: str, secret: str) -> None:
    """From the tracker's sign-in page to the provider's, and the form filled in and sent."""
    await page.goto(f"{base}/login")
    await page.click("#login-sso")
    await page.wait_for_url(lambda url: url.startswith("http://127.0.0.1:5557/login"))
    await page.fill("#username", username)
    await page.fill("#password", secret)
    await page.click("#accept")


@pytest.mark.parametrize(
    ("username", "shown", "grant", "picture"),
    [
        ("bientap.soyte", "Nguyễn Thị Hoà", "biên tập · so-y-te", "oidc-dashboard-editor.png"),
        ("phatngon.ubnd", "Trần Đức Thắng", "người phát ngôn · ubnd-tinh", "oidc-dashboard-spokesperson.png"),
    ],
)
async def test_a_person_signs_in_and_the_dashboard_shows_them_and_their_units(
    settings: LoaSettings,
    sqlite_url: str,
    oidc_client: Client,
    username: str,
    shown: str,
    grant: str,
    picture: str,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    async with signed_in_browser(settings, sqlite_url, oidc_client) as (page, base, tracker):
        await page.goto(f"{base}/login")
        if username == "bientap.soyte":
            await page.screenshot(path=str(screenshots / "oidc-tracker-login.png"))
        await page.click("#login-sso")
        await page.wait_for_url(lambda url: url.startswith("http://127.0.0.1:5557/login"))
        await expect(page.locator("h1")).to_have_text("Đăng nhập một lần (SSO)")
        if username == "bientap.soyte":
            await page.screenshot(path=str(screenshots / "oidc-provider-login.png"))
        await page.fill("#username", username)
        await page.fill("#password", password(username))
        await page.click("#accept")

        await page.wait_for_url(f"{base}/")
        await expect(page.locator("#who")).to_contain_text(shown)
        await expect(page.locator("#who")).to_contain_text(grant)
        await expect(page.locator("#who")).not_to_contain_text("admin")
        await page.screenshot(path=str(screenshots / picture))

        async with tracker.engine.connect() as conn:
            row = (await conn.execute(select(dashboard_sessions))).one()
        assert (row.principal, row.kind, row.display_name) == (f"{username}@loa.example", "person", shown)
        assert "token" not in str(tuple(row)).lower()  # a principal, and the ID token only sealed
        # sealed with Fernet (its tokens open with the version byte 0x80, "gAAAAA" in base64url); a
        # JWT's parts are joined by dots, which base64url never yields — so no ID token in clear.
        # (Not `"eyJ" not in`: 1 ciphertext in ~300 holds those three letters by chance.)
        assert row.id_token_sealed is not None and row.id_token_sealed.startswith("gAAAAA")
        assert "." not in row.id_token_sealed

        ended_at_provider: list[str] = []

        async def provider_logout(route: Any) -> None:
            ended_at_provider.append(route.request.url)
            await route.fulfill(status=200, body="signed out")

        await page.route(f"{ISSUER}oauth2/sessions/logout*", provider_logout)
        await page.click("header form button")  # sign out: here, then at the provider
        await page.wait_for_url(lambda url: url.startswith(ISSUER))
        assert ended_at_provider == [f"{ISSUER}oauth2/sessions/logout?client_id={oidc_client.client_id}"]
        await page.goto(f"{base}/")
        await page.wait_for_url(f"{base}/login?next=%2F")
        async with tracker.engine.connect() as conn:
            revoked = (await conn.execute(select(dashboard_sessions.c.revoked_at))).scalar_one()
        assert revoked is not None


async def test_a_wrong_password_is_refused_at_the_provider_and_opens_no_session(
    settings: LoaSettings, sqlite_url: str, oidc_client: Client
) -> None:
    from playwright.async_api import expect

    async with signed_in_browser(settings, sqlite_url, oidc_client) as (page, base, tracker):
        await at_provider(page, base, "bientap.soyte", password("bientap.soyte") + "x")
        await expect(page.locator(".error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
        await page.goto(f"{base}/")
        await page.wait_for_url(f"{base}/login?next=%2F")
        async with tracker.engine.connect() as conn:
            assert (await conn.execute(select(dashboard_sessions))).all() == []


async def test_a_tampered_state_is_refused_and_opens_no_session(
    settings: LoaSettings, sqlite_url: str, oidc_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    from playwright.async_api import expect

    async with signed_in_browser(settings, sqlite_url, oidc_client) as (page, base, tracker):
        sent: list[str] = []

        async def tamper(route: Any) -> None:
            """The tracker's redirect to the provider, its state replaced on the way (the cookie kept)."""
            answer = await route.fetch(max_redirects=0)
            location = answer.headers["location"]
            state = re.search(r"[?&]state=([^&]+)", location)
            assert state is not None
            sent.append(location)
            forged = location.replace(f"state={state[1]}", "state=" + "A" * len(state[1]))
            await route.fulfill(response=answer, headers={**answer.headers, "location": forged})

        await page.route(re.compile(r"/login/oidc"), tamper)
        await at_provider(page, base, "bientap.soyte", password("bientap.soyte"))
        await page.wait_for_url(re.compile(r"/auth/callback\?"))
        assert len(sent) == 1
        await expect(page.locator("#login-error")).to_contain_text("Đăng nhập không thành công")
        assert "the state is not the one this browser was given" in caplog.text
        async with tracker.engine.connect() as conn:
            assert (await conn.execute(select(dashboard_sessions))).all() == []


async def test_a_person_without_a_loa_group_gets_no_session(
    settings: LoaSettings, sqlite_url: str, oidc_client: Client
) -> None:
    from playwright.async_api import expect

    async with signed_in_browser(settings, sqlite_url, oidc_client) as (page, base, tracker):
        await at_provider(page, base, "khach", password("khach"))
        await expect(page.locator("#login-error")).to_contain_text("chưa được giao vai trò nào")
        async with tracker.engine.connect() as conn:
            assert (await conn.execute(select(dashboard_sessions))).all() == []

""" "Tài khoản kênh" in headless Chromium: admin only; add an account with a write-only credential,
change it, see its unit, expiry and version, remove it; the secret never comes back to the page."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa.settings import LoaSettings
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.connect_support import connect_tracker
from tests.integration.tracker.support import TOKENS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
SO = "Sở Thông tin và Truyền thông Đà Nẵng"
SECRET = "EAAGĐàNẵngTrangSởBíMật0042xyz"
NEWER = "EAAGĐàNẵngMới0043abc"


async def _sign_in(page: Any, base: str, role: str) -> None:
    """Sign in to the dashboard with the role's bearer token."""
    await page.goto(f"{base}/login")
    await page.fill("#token", TOKENS[role])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")


async def test_an_admin_adds_changes_and_removes_an_account_and_never_sees_its_secret(
    settings: LoaSettings, sqlite_url: str, screenshots: Path, sandbox_url: str
) -> None:
    from playwright.async_api import async_playwright, expect

    async with connect_tracker(settings, sqlite_url, sandbox_url) as (_, _, client), async_playwright() as pw:
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Ho_Chi_Minh")
        page.on("dialog", lambda dialog: dialog.accept())

        # an operator has no link to it, and is refused
        await _sign_in(page, base, "operator")
        await expect(page.locator("nav a[href='/accounts']")).to_have_count(0)
        assert (await page.goto(f"{base}/accounts")).status == 403  # type: ignore[union-attr]
        await page.context.clear_cookies()

        await _sign_in(page, base, "admin")
        await page.click("nav a[href='/accounts']")
        await expect(page.locator("h1")).to_have_text("Tài khoản kênh")
        await expect(page.locator("#account-rows")).to_contain_text("Chưa có tài khoản nào.")

        form = page.locator("#account-form")
        await form.locator("select[name=channel]").select_option("facebook")
        await form.locator("input[name=name]").fill("trang-so-da-nang")
        await form.locator("input[name=unit]").fill(SO)
        await form.locator("input[name=expires_at]").fill("2027-01-15T08:30")
        await form.locator("input[name=credential_name]").first.fill("page_token")
        secret_input = form.locator("input[name=credential_value]").first
        assert await secret_input.get_attribute("type") == "password"
        await secret_input.fill(SECRET)
        await form.locator("textarea[name=options]").fill('{"page_id": "1029384756"}')
        await form.locator("[data-account-save]").click()

        row = page.locator("tr.account-row[data-account='facebook/trang-so-da-nang']")
        await expect(row).to_contain_text("page_token")
        await expect(row).to_contain_text(SO)
        await expect(row).to_contain_text("08:30:00 15/01/2027")
        await expect(row).to_contain_text("Hoạt động")
        await expect(row).to_contain_text("page_id=1029384756")
        await expect(row).to_contain_text("v1")

        # change: the credential again (write-only), the unit unchanged
        await row.locator("[data-account-edit]").click()
        await form.locator("input[name=credential_name]").first.fill("page_token")
        await form.locator("input[name=credential_value]").first.fill(NEWER)
        await form.locator("[data-account-save]").click()
        await expect(row).to_contain_text("v2")
        await expect(row).to_contain_text(SO)
        html = await page.content()
        assert SECRET not in html and NEWER not in html

        await row.locator("[data-account-remove]").click()
        await expect(row).to_have_count(0)
        # Connect a Zalo OA: off to the sandbox's permission page and back with the token pair
        app = {"app_id": "4318569247120", "secret_key": "Zq7tLxP2vN9sKd4WmR8c", "oa_id": "2910374658"}
        await page.request.post(f"{sandbox_url}/zalo/_apps", data=app)
        connect = page.locator("#connect-zalo")
        await connect.locator("input[name=name]").fill("oa-so-da-nang")
        await connect.locator("input[name=unit]").fill(SO)
        await connect.locator("input[name=app_id]").fill(app["app_id"])
        await connect.locator("input[name=secret_key]").fill(app["secret_key"])
        await connect.locator("button").click()
        zalo = page.locator("tr.account-row[data-account='zalo/oa-so-da-nang']")
        await expect(zalo).to_contain_text("access_token, app_id, refresh_token, secret_key", timeout=15_000)
        assert page.url == f"{base}/accounts"
        await expect(zalo).to_contain_text(SO)
        await expect(zalo).to_contain_text("Hoạt động")
        assert app["secret_key"] not in await page.content()
        await page.screenshot(path=str(screenshots / "tracker-accounts.png"), full_page=True)

        await page.goto(f"{base}/audit?action=account_change")
        audit = page.locator("#audit-rows tr.audit-row")
        await expect(audit).to_have_count(4)
        assert SECRET not in await page.content()
        await browser.close()


async def test_an_admin_connects_a_facebook_page_through_facebook_login(
    settings: LoaSettings, sqlite_url: str, screenshots: Path, sandbox_url: str
) -> None:
    """Off to the sandbox's Login dialog and back, the Page picked among the person's two: its token
    is stored, never shown, and the page says a long-lived Page token does not expire."""
    from playwright.async_api import async_playwright, expect

    app = {"app_id": "802345678901234", "app_secret": "9f3c2a7b5e1d4c6a8b0e2f4a6c8d0e1f"}
    page_token = "EAAB-Trang-Sở-Đà-Nẵng-0042"
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (_, _, client), async_playwright() as pw:
        base = str(client.base_url)
        page_in = {"id": "104857600000001", "name": "Sở TT&TT Đà Nẵng", "token": page_token}
        radio = {"id": "104857600000002", "name": "Đài Phát thanh Đà Nẵng", "token": "EAAB-Đài-0043"}
        async with httpx.AsyncClient(base_url=sandbox_url) as graph:
            for one in (page_in, radio):
                await graph.post("/graph/_sandbox/pages", json=one)
            await graph.post("/graph/_sandbox/apps", json=app | {"page_ids": [page_in["id"], radio["id"]]})
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Ho_Chi_Minh")
        await _sign_in(page, base, "admin")
        await page.goto(f"{base}/accounts")

        connect = page.locator("#connect-facebook")
        await expect(page.locator("h2", has_text="Kết nối Trang Facebook")).to_have_count(1)
        await connect.locator("input[name=name]").fill("trang-so-da-nang")
        await connect.locator("input[name=unit]").fill(SO)
        await connect.locator("input[name=app_id]").fill(app["app_id"])
        secret = connect.locator("input[name=app_secret]")
        assert await secret.get_attribute("type") == "password"
        await secret.fill(app["app_secret"])
        await connect.locator("button").click()

        # back from the Login dialog: the person manages two Pages, the admin picks one
        pick = page.locator("#connect-pick")
        await expect(pick).to_contain_text("Đài Phát thanh Đà Nẵng", timeout=15_000)
        await pick.locator(f"input[value='{page_in['id']}']").check()
        await page.screenshot(path=str(screenshots / "tracker-connect-facebook-pick.png"))
        await pick.locator("button").click()

        row = page.locator("tr.account-row[data-account='facebook/trang-so-da-nang']")
        await expect(row).to_contain_text("page_access_token", timeout=15_000)
        assert page.url == f"{base}/accounts"
        await expect(row).to_contain_text("page_id=104857600000001")
        await expect(row).to_contain_text("Mã Trang dài hạn: không hết hạn")
        await expect(row).to_contain_text(SO)
        html = await page.content()
        assert all(secret not in html for secret in (app["app_secret"], page_token, radio["token"]))
        await row.scroll_into_view_if_needed()
        await page.screenshot(path=str(screenshots / "tracker-connect-facebook.png"), full_page=True)
        await browser.close()

"""In headless Chromium, under the policy: the dashboard and the API docs break none of it."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from loa.settings import LoaSettings
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import TOKENS, running_tracker, tracker_settings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
# runs before any script of the page, outside its policy: records what the policy refused
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


async def test_dashboard_and_docs_run_under_the_policy(settings: LoaSettings, sqlite_url: str) -> None:
    from playwright.async_api import async_playwright, expect

    async with (
        running_tracker(tracker_settings(settings, sqlite_url, tracker_consume=False)) as (_, client),
        async_playwright() as pw,
    ):
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.add_init_script(RECORD_VIOLATIONS)
        elsewhere: list[str] = []

        def note(request: Any) -> None:
            if not request.url.startswith((base, "data:")):
                elsewhere.append(request.url)

        page.on("request", note)

        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["operator"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await expect(page.locator("#live-dot.on")).to_be_visible()  # the dashboard's script ran
        assert await page.evaluate("window.__violations") == []

        await page.goto(f"{base}/docs")
        await expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
        await expect(page.locator(".info .title")).to_contain_text("Loa tracker")
        await page.locator(".opblock-summary").first.click()  # parameters, examples, response types
        await expect(page.locator(".opblock-body .responses-wrapper").first).to_be_visible()
        await expect(page.locator(".copy-to-clipboard").first).to_be_attached()
        await expect(page.locator(".opblock-body select").first).to_be_visible()
        await page.wait_for_timeout(300)  # a refused image reports its violation asynchronously
        assert await page.evaluate("window.__violations") == []
        assert elsewhere == []
        await browser.close()

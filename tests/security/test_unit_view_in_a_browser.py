"""In headless Chromium: a viewer of one department signs in to the dashboard and sees only its
unit's contents; the approver a content system claimed is shown apart from who approved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loa.settings import LoaSettings
from services.tracker.db import make_engine
from services.tracker.ingest import apply_content_events
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import approved, running_tracker, tracker_settings
from tests.security.access_support import ACCOUNT_OF, OTHER, OWN, UNITS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
VIEWER = "viewer-vu-tt-token-0123456789abcdef-0123456789"
CLAIM = "Vụ trưởng Lê Thị Đoan Trang"


async def test_a_department_viewer_sees_its_unit_only(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    own = approved(
        "tcbc-vu-tt-01",
        [("website", ACCOUNT_OF[OWN])],
        unit=OWN,
        title="Thông cáo: Đề án chuyển đổi số báo chí",
    )
    own = own.model_copy(update={"payload": own.payload.model_copy(update={"approver_claim": CLAIM})})
    other = approved(
        "tb-phap-che-07",
        [("website", ACCOUNT_OF[OTHER])],
        unit=OTHER,
        title="Thông báo: Dự thảo Luật Báo chí sửa đổi",
    )
    tokens = {"trang": {"token": VIEWER, "role": "viewer", "units": [OWN]}}
    configured = tracker_settings(
        settings, sqlite_url, tracker_consume=False, tracker_tokens=tokens, units=UNITS
    )
    async with running_tracker(configured) as (_, client), async_playwright() as pw:
        engine = make_engine(sqlite_url)
        await apply_content_events(engine, [own, other])
        await engine.dispose()
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{base}/login")
        await page.fill("#token", VIEWER)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        body = page.locator("body")
        await expect(body).to_contain_text("Đề án chuyển đổi số báo chí")
        await expect(body).not_to_contain_text("Dự thảo Luật Báo chí sửa đổi")
        await expect(page.locator(".who")).to_contain_text("xem · Vụ Truyền thông và Báo chí")
        await page.goto(f"{base}/contents/tcbc-vu-tt-01")
        await expect(body).to_contain_text(CLAIM)
        await expect(body).to_contain_text("chưa xác minh")
        await expect(page.locator("[data-action=retract]")).to_have_count(0)  # a viewer may not
        await page.screenshot(path=str(screenshots / "tracker-unit-viewer.png"), full_page=True)
        answer = await page.goto(f"{base}/contents/tb-phap-che-07")
        assert answer is not None and answer.status == 403
        await browser.close()

"""The audit page in headless Chromium: admin only, Vietnamese labels, filters by person, unit,
action and day, paging, and the CSV link carrying the filters."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from loa.audit.chain import append
from loa.events import (
    DEFAULT_TIMEZONE,
    ActorKind,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    AuditRecorded,
)
from loa.settings import LoaSettings
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import TOKENS, running_tracker, tracker_settings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
VU = "Vụ Truyền thông và Báo chí"
SO = "Sở Thông tin và Truyền thông Đà Nẵng"
REASONS = {
    AuditAction.RETRACT: "Đính chính số liệu về Đồng Nai",
    AuditAction.REJECT: "Thiếu nguồn trích dẫn của Sở Tài chính",
}
DAY_ONE = datetime(2026, 11, 30, 9, 15, tzinfo=DEFAULT_TIMEZONE)


def _act(
    i: int, actor: str, action: AuditAction, unit: str, at: datetime, outcome: AuditOutcome = AuditOutcome.OK
) -> AuditRecorded:
    entry = AuditEntry(
        actor=actor,
        actor_kind=ActorKind.PERSON,
        address="10.20.0.7",
        action=action,
        outcome=outcome,
        reason=REASONS.get(action, ""),
        content_id=f"thong-cao-{i:03d}",
        version=1,
        unit=unit,
    )
    return AuditRecorded(payload=entry, producer="loa-ingest", occurred_at=at)


def _seed() -> list[AuditRecorded]:
    """55 submissions of one editor on day one (two pages), and a few acts of a spokesperson next day."""
    editor, spokesperson = "tran.van.duc@mic.gov.vn", "nguyen.thi.hong@mic.gov.vn"
    acts = [_act(i, editor, AuditAction.SUBMIT, SO, DAY_ONE + timedelta(minutes=i)) for i in range(55)]
    next_day = DAY_ONE + timedelta(days=1)
    acts += [
        _act(100, spokesperson, AuditAction.RETRACT, VU, next_day),
        _act(101, spokesperson, AuditAction.APPROVE, VU, next_day + timedelta(minutes=5)),
        _act(
            102, spokesperson, AuditAction.REJECT, VU, next_day + timedelta(minutes=9), AuditOutcome.REFUSED
        ),
    ]
    return acts


async def test_the_audit_page_filters_pages_and_exports(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        await append(app.state.tracker.engine, _seed())
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})

        # a viewer has no link to it, and is refused
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["viewer"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await expect(page.locator("nav a[href='/audit']")).to_have_count(0)
        assert (await page.goto(f"{base}/audit")).status == 403  # type: ignore[union-attr]
        await page.context.clear_cookies()

        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["admin"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.click("nav a[href='/audit']")
        await expect(page.locator("h1")).to_have_text("Nhật ký kiểm toán")
        rows = page.locator("#audit-rows tr.audit-row")
        await expect(rows).to_have_count(50)  # newest first, 50 a page; both sign-ins are rows too
        await expect(page.locator("#audit-paging")).to_contain_text("Trang 1/2 · 60 dòng")
        await expect(rows.first).to_contain_text("Đăng nhập")

        await page.select_option("select[name=actor]", "nguyen.thi.hong@mic.gov.vn")
        await page.click("#audit-filters button")
        await expect(rows).to_have_count(3)
        await expect(rows.first).to_contain_text("Bị từ chối")
        await expect(page.locator("#audit-rows")).to_contain_text("Đính chính số liệu về Đồng Nai")
        await page.screenshot(path=str(screenshots / "tracker-audit.png"), full_page=True)

        await page.select_option("select[name=action]", "retract")
        await page.click("#audit-filters button")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Gỡ bài")
        href = await page.locator("#audit-csv").get_attribute("href")
        assert href is not None and "actor=nguyen.thi.hong%40mic.gov.vn" in href and "action=retract" in href

        # by unit and day: the editor's day, second page
        await page.goto(f"{base}/audit?unit={SO}&since=2026-11-30&until=2026-11-30&page=2")
        await expect(rows).to_have_count(5)
        await expect(page.locator("#audit-paging")).to_contain_text("Trang 2/2 · 55 dòng")
        await page.goto(f"{base}/audit?since=2026-12-01&until=2026-12-01")
        await expect(rows).to_have_count(3)

        # the export is what the filters show, and is itself recorded
        export = await page.request.get(f"{base}{href}")
        assert export.status == 200
        lines = (await export.text()).lstrip("\ufeff").splitlines()
        assert len(lines) == 2 and "thong-cao-100" in lines[1]
        await page.goto(f"{base}/audit?action=export")
        await expect(rows).to_have_count(1)
        await browser.close()

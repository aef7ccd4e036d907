"""The archive search in headless Chromium, in Vietnamese: "Lưu trữ" from the nav, a search typed
without diacritics ("dinh chinh") finds the correction "Đính chính…", narrowed by unit; the
record is downloaded from the page as a signed ZIP that verifies, holding both versions, the
platform's answer and the retraction; axe-core finds no WCAG 2.1 AA violation on the page.
Screenshot at 1280 px: docs/img/tracker-archive.png."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from minio import Minio

from loa.archive import signing
from loa.archive.bundle import verify
from loa.archive.store import ArchiveStore
from loa.events import ContentKind, ContentRetracted, ContentUpdated, DeliveryState, Retraction, topics
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
from tests.conftest import Stack
from tests.e2e.axe import axe_violations_async
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import TOKENS, approved, running_tracker, status, tracker_settings
from tests.integration.tracker.test_archive_export_api import archived

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
SO_TTTT = "Sở Thông tin và Truyền thông Đà Nẵng"
VAN_PHONG = "Văn phòng UBND thành phố"
FB = ("facebook", "trang-so-tttt")
CORRECTED = "Đính chính: Đà Nẵng thu hút 1.250 tỷ đồng vốn đầu tư trong quý IV"


async def test_the_archive_is_searched_without_diacritics_and_its_record_downloaded(
    settings: LoaSettings, sqlite_url: str, stack: Stack, archive_bucket: str, minio_client: Minio,
    screenshots: Path, tmp_path: Path,
) -> None:  # fmt: skip
    from playwright.async_api import async_playwright, expect

    v1 = approved("von-dau-tu-quy-iv", [FB], unit=SO_TTTT, title="Đà Nẵng thu hút 12.500 tỷ đồng vốn đầu tư")
    v1 = v1.model_copy(update={"payload": v1.payload.model_copy(update={"kind": ContentKind.PRESS_RELEASE})})
    v2 = ContentUpdated(payload=v1.payload.model_copy(update={"version": 2, "title": CORRECTED}))
    gone = ContentRetracted(
        payload=Retraction(id=v1.payload.id, reason="Số liệu sai", requested_by="Lê Thị Hạnh")
    )
    others = [
        approved("dinh-chinh-lich-hop", [FB], unit=VAN_PHONG, title="Đính chính lịch họp giao ban tuần"),
        approved("le-hoi-phao-hoa", [FB], unit=SO_TTTT, title="Lễ hội Pháo hoa Quốc tế Đà Nẵng 2026"),
    ]
    published = status(v1.payload.id, *FB, DeliveryState.PUBLISHED, 2)
    archived(
        ArchiveStore(minio_client, archive_bucket),
        [(topics.CONTENT, v1), (topics.DELIVERY, published), (topics.CONTENT, v2), (topics.CONTENT, gone)]
        + [(topics.CONTENT, o) for o in others],
    )
    private = signing.new_private_b64()
    ts = tracker_settings(
        settings, sqlite_url, tracker_consume=False, s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key, s3_secret_key=stack.s3_secret_key,
        s3_archive_bucket=archive_bucket, archive_signing_key=private,
    )  # fmt: skip
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        await apply_content_events(app.state.tracker.engine, [v1, v2, gone, *others])
        await apply_statuses(app.state.tracker.engine, [published])
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["viewer"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")

        await page.get_by_role("link", name="Lưu trữ").click()
        await page.wait_for_url(f"{base}/archive")
        await expect(page.locator("h1")).to_have_text("Lưu trữ")
        await page.get_by_label("Từ trong tiêu đề").fill("dinh chinh")
        await page.get_by_role("button", name="Tìm").click()
        rows = page.locator("#archive-results tbody tr")
        await expect(rows).to_have_count(2)  # both corrections, of two units; not the fireworks
        await page.get_by_label("Đơn vị").select_option(SO_TTTT)
        await page.get_by_role("button", name="Tìm").click()
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text(CORRECTED)
        await expect(rows.first.locator(".badge")).to_have_text("Đã gỡ")
        await page.screenshot(path=str(screenshots / "tracker-archive.png"), full_page=True)
        assert await axe_violations_async(page) == []  # WCAG 2.1 AA, as the other dashboard pages

        async with page.expect_download() as waiting:
            await rows.first.get_by_role("link", name="Tải hồ sơ (ZIP có chữ ký)").click()
        download = await waiting.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        await browser.close()
    assert saved.name == "loa-archive-von-dau-tu-quy-iv.zip"
    verdict = verify(saved.read_bytes(), signing.private_key(private).public_key())
    assert verdict.ok, verdict.problems
    assert (verdict.records, verdict.contents) == (4, 1)  # approved, answered, corrected, retracted

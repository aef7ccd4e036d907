"""Corrections ("Đính chính", #17 item 2) as people see them, in headless Chromium: the dated notice
at the top of the corrected article on the website at 390 px and 1280 px, its link to the
correction and the correction's link back; the tracker's content page linking both ways with the
correction's deliveries. Screenshots: see the ``screenshots`` fixture."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from loa.events import DeliveryState
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.channels.website.test_corrections import ORIGINAL_TITLE, correction, original
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.e2e.test_website_browser import illustration
from tests.integration.tracker.support import TOKENS, approved, running_tracker, status, tracker_settings
from tests.integration.tracker.test_correction_links import correction_of
from tests.website_support import FakeContext, RunningServer, make_media, static_account, store_image

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="apt-get install chromium"),
]


async def _publish_both(adapter: WebsiteAdapter) -> tuple[str, str]:
    media = adapter.context.media
    image = store_image(media, alt="Công trình cầu Rồng, Đà Nẵng", data=illustration())
    account = static_account()
    paths = []
    for content in (original().model_copy(update={"media": [image]}), correction()):
        post = await adapter.render(content, content.targets[0], account)
        paths.append((await adapter.publish(post, account)).external_id)
    return paths[0], paths[1]


def test_the_correction_notice_on_the_article_at_390_and_1280(
    settings: LoaSettings, screenshots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    adapter = WebsiteAdapter(FakeContext(make_media(settings)), WebsiteSettings(**settings.model_dump()))
    first, second = asyncio.run(_publish_both(adapter))
    screenshots.mkdir(parents=True, exist_ok=True)
    with RunningServer(adapter.static.bucket) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                response = page.goto(server.url + first, wait_until="networkidle")
                assert response is not None and response.status == 200
                notice = page.locator(".correction-notice")
                expect(notice).to_have_count(1)
                expect(notice).to_contain_text("Đính chính ngày 28/11/2026:")
                # the notice is the first thing of the article, above its title, and in view
                assert notice.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]  # type: ignore[index]
                expect(notice).to_be_in_viewport()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(screenshots / f"website-correction-{width}.png"))
                notice.locator("a").click()
                page.wait_for_url(server.url + second)
                expect(page.locator(".corrects")).to_contain_text(f"Bài này đính chính: {ORIGINAL_TITLE}")
                page.locator(".corrects a").click()
                page.wait_for_url(server.url + first)
                page.close()
        finally:
            browser.close()


async def test_the_tracker_content_page_links_the_correction_both_ways(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        engine = app.state.tracker.engine
        await apply_content_events(
            engine,
            [
                approved("tin-giai-ngan-da-nang", title=ORIGINAL_TITLE),
                correction_of("tin-giai-ngan-da-nang", "dinh-chinh-giai-ngan"),
            ],
        )
        await apply_statuses(
            engine,
            [
                status("tin-giai-ngan-da-nang", "website", "main", DeliveryState.PUBLISHED, 1),
                status("tin-giai-ngan-da-nang", "facebook", "so-ttt-da-nang", DeliveryState.PUBLISHED, 1),
                status("dinh-chinh-giai-ngan", "website", "main", DeliveryState.PUBLISHED, 1),
                status("dinh-chinh-giai-ngan", "facebook", "so-ttt-da-nang", DeliveryState.PUBLISHING, 1),
            ],
        )
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["viewer"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/contents/tin-giai-ngan-da-nang")
        corrections = page.locator("section.corrections")
        await expect(corrections.locator("h2")).to_have_text("Đã được đính chính bởi")
        await expect(corrections.locator("li[data-delivery]")).to_have_count(2)
        await expect(corrections).to_contain_text("Đính chính số liệu giải ngân vốn đầu tư công của Đà Nẵng")
        await page.screenshot(path=str(screenshots / "tracker-correction.png"), full_page=True)
        await corrections.locator("a[href='/contents/dinh-chinh-giai-ngan']").click()
        await page.wait_for_url(f"{base}/contents/dinh-chinh-giai-ngan")
        await expect(page.locator(".correction-link")).to_contain_text(f"Đính chính cho {ORIGINAL_TITLE}")
        await browser.close()

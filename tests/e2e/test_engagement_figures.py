"""The content page in headless Chromium shows each delivery's latest engagement figures, in Vietnamese."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from loa.events import DeliveryState, EngagementObserved, Metric, utcnow
from loa.settings import LoaSettings
from services.tracker.engagement import record_samples
from services.tracker.ingest import apply_content_events, apply_statuses
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    observed,
    running_tracker,
    status,
    tracker_settings,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
CONTENT = "thong-cao-hoi-nghi-xuc-tien-dau-tu"
TARGETS = (("facebook", "so-ttt-da-nang"), ("youtube", "kenh-chinh"))


def _sample(channel: str, account: str, minutes: int, metrics: dict[Metric, int]) -> EngagementObserved:
    return observed(CONTENT, channel, account, utcnow() - timedelta(minutes=minutes), metrics)


async def test_the_content_page_shows_the_latest_figures_of_each_delivery(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        engine = app.state.tracker.engine
        await apply_content_events(engine, [approved(CONTENT, TARGETS)])
        await apply_statuses(engine, [status(CONTENT, c, a, DeliveryState.PUBLISHED, 3) for c, a in TARGETS])
        await record_samples(
            engine,
            [
                _sample("facebook", "so-ttt-da-nang", 60, {Metric.IMPRESSIONS: 900, Metric.REACTIONS: 40}),
                _sample("facebook", "so-ttt-da-nang", 5, {Metric.IMPRESSIONS: 12480, Metric.REACTIONS: 316}),
                _sample("facebook", "so-ttt-da-nang", 5, {Metric.IMPRESSIONS: 12480, Metric.REACTIONS: 316}),
                _sample("youtube", "kenh-chinh", 5, {Metric.VIEWS: 2734, Metric.COMMENTS: 18}),
            ],
        )
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["viewer"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/contents/{CONTENT}")
        facebook = page.locator(f"[data-engagement='{CONTENT}:facebook:so-ttt-da-nang']")
        await expect(facebook).to_contain_text("Lượt hiển thị 12.480")  # the newest, not the hour-old one
        await expect(facebook).to_contain_text("Cảm xúc/Thích 316")
        youtube = page.locator(f"[data-engagement='{CONTENT}:youtube:kenh-chinh']")
        await expect(youtube).to_contain_text("Lượt xem 2.734")
        await expect(youtube).to_contain_text("Bình luận 18")
        await page.screenshot(path=str(screenshots / "tracker-engagement.png"), full_page=True)
        await browser.close()

        api = await client.get(
            f"/api/v1/contents/{CONTENT}/engagement", headers={"Authorization": f"Bearer {TOKENS['viewer']}"}
        )
        deliveries = {
            d["channel"]: {f["metric"]: f["value"] for f in d["figures"]} for d in api.json()["deliveries"]
        }
        assert deliveries == {
            "facebook": {"impressions": 12480, "reactions": 316},
            "youtube": {"views": 2734, "comments": 18},
        }

"""The incident page in real headless Chromium, in Vietnamese: a spokesperson opens "Sự cố truyền
thông" from the dashboard, the drill happens (a correction, an urgent post, a hold and its release,
a retraction), the page shows one timeline across channels, a note is added and the incident is
closed; the report's three downloads follow. Screenshots: docs/img/tracker-incident*.png."""

from __future__ import annotations

import asyncio
import io
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from loa.settings import LoaSettings
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.incident_drill import CORRECTION, TITLE, play, seed_before, seeded
from tests.integration.tracker.support import (
    TOKENS,
    UNIT,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    tracker_settings,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
NOTE = "Đã đề nghị Báo Đà Nẵng cải chính; đường dây nóng 1022 trả lời người dân."


async def test_the_incident_page_shows_one_timeline_and_closes_with_its_report(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    await create_topics(settings)
    tracker = tracker_settings(
        settings,
        sqlite_url,
        tracker_tokens={
            **{name: {"token": token, "role": name} for name, token in TOKENS.items()},
            "nguoi-phat-ngon": {
                "token": "spokesperson-token-0123456789abcdef-0123",
                "role": "spokesperson",
                "units": [UNIT],
            },
        },
    )
    async with running_tracker(tracker) as (_, client), producer(settings) as p, async_playwright() as pw:
        await seed_before(p, settings)
        await eventually(lambda: seeded(client), what="seed data")
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{base}/login")
        await page.fill("#token", "spokesperson-token-0123456789abcdef-0123")
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")

        await page.get_by_role("link", name="Sự cố truyền thông").click()
        form = page.locator("#incident-form")
        await form.locator("input[name=title]").fill(TITLE)
        await form.locator("select[name=severity]").select_option("high")
        await form.locator("input[name=units]").fill(UNIT)
        await form.get_by_role("button", name="Mở sự cố").click()
        await page.wait_for_url(f"{base}/incidents/*", timeout=20_000)
        iid = int(page.url.rsplit("/", 1)[1])
        await expect(page.locator("#incident-head")).to_contain_text("Đang mở")
        incident = (await client.get(f"/api/v1/incidents/{iid}", headers=auth("viewer"))).json()
        assert incident["opened_by"] == "nguoi-phat-ngon"

        await play(client, p, settings, datetime.fromisoformat(incident["opened_at"]))
        timeline = page.locator("#incident-timeline")
        # live: the page re-renders as the tracker records the steps
        await expect(timeline).to_contain_text("Yêu cầu gỡ khỏi mọi kênh", timeout=20_000)
        await expect(timeline.locator("li.k-hold-placed")).to_contain_text("Tạm dừng phát hành")
        await expect(timeline.locator("li.ts-published").first).to_be_visible()
        await expect(timeline.locator(".tag-correction").first).to_have_text("Đính chính")
        await expect(timeline).to_contain_text(f"https://mic.gov.vn/tin-tuc/{CORRECTION}.htm")

        await page.locator("#note-form textarea[name=text]").fill(NOTE)
        await page.locator("#note-form").get_by_role("button", name="Thêm ghi chú").click()
        await expect(timeline.locator("li.k-incident-note")).to_contain_text(NOTE, timeout=20_000)
        await expect(page.locator("#incident-durations")).to_contain_text("Duyệt đính chính → đã đăng")
        await page.screenshot(path=str(screenshots / "tracker-incident.png"), full_page=True)

        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.locator("#close-form input[name=note]").fill("Đã xử lý xong, số liệu đã được cải chính")
        await page.get_by_role("button", name="Đóng sự cố").click()
        report = page.locator("#incident-report")
        await expect(report).to_be_visible(timeout=20_000)
        await expect(page.locator("#incident-head")).not_to_contain_text("Đang mở")

        chart_link = report.get_by_role("link", name="Biểu đồ diễn biến (PNG)")
        href = await chart_link.get_attribute("href")
        assert href is not None
        answer = await page.request.get(f"{base}{href}")
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
        chart = await answer.body()
        Image.open(io.BytesIO(chart)).load()
        (screenshots / "tracker-incident-chart.png").write_bytes(chart)
        markdown = await page.request.get(f"{base}/api/v1/incidents/{iid}/report?format=md")
        assert NOTE in await markdown.text()
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(screenshots / "tracker-incident-390.png"), full_page=True)
        await browser.close()
        closed = (await client.get(f"/api/v1/incidents/{iid}", headers=auth("viewer"))).json()
        assert closed["closed_by"] == "nguoi-phat-ngon"
        assert [n["author"] for n in closed["notes"]] == ["nguoi-phat-ngon"]

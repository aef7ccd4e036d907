"""The leadership report page in headless Chromium, in Vietnamese: reached from the dashboard's nav,
today's range shows each post's figures per channel (none where the listener reads none), the
comments and the watch's alert with how many were answered and how fast, the chart loads, the PNG
download is a file and an audited export. Screenshots at 1280 and 390 px: docs/img/tracker-report-*.png."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from loa.events import Comments, CommentsObserved, DeliveryState, ErrorClass, Metric, PostComment, utcnow
from loa.settings import LoaSettings
from services.tracker.comments import CommentState, list_comments, mark, record_comments
from services.tracker.engagement import record_samples
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.queries import start_of_today
from services.tracker.watch import VolumeRule
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    observed,
    running_tracker,
    status,
    tracker_settings,
)

if TYPE_CHECKING:
    from playwright.async_api import Locator

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
SO_TTTT = "Sở Thông tin và Truyền thông Đà Nẵng"
VAN_PHONG = "Văn phòng UBND thành phố"
CONTENT = "thong-cao-le-hoi-phao-hoa-quoc-te"
TARGETS = (("facebook", "trang-so-tttt"), ("youtube", "kenh-da-nang"), ("x", "dngov"), ("website", "main"))
PUB, FAILED = DeliveryState.PUBLISHED, DeliveryState.FAILED
FIGURES = {
    "facebook": {Metric.REACH: 12480, Metric.IMPRESSIONS: 20310, Metric.REACTIONS: 316, Metric.COMMENTS: 41,
                 Metric.SHARES: 57},
    "youtube": {Metric.VIEWS: 2734, Metric.REACTIONS: 88, Metric.COMMENTS: 18},
    "x": {Metric.IMPRESSIONS: 5120, Metric.REACTIONS: 64, Metric.COMMENTS: 3, Metric.SHARES: 12},
}  # fmt: skip
DURATION = re.compile(r"^\d+(\.\d)? (s|min|h)$")
"""A median as ``Translator.seconds`` says it."""
SAID = (
    "Pháo hoa năm nay bắn mấy đêm ạ?",
    "Tin giả: nghe nói lễ hội bị huỷ vì bão, có đúng không?",
    "Cảm ơn Sở, chương trình rất hay!",
)


def citizens(due: datetime) -> CommentsObserved:
    """Three comments on the Facebook post, written between its time and now, one a false claim."""
    now = utcnow()
    return CommentsObserved(
        payload=Comments(
            content_id=CONTENT,
            version=1,
            channel="facebook",
            account="trang-so-tttt",
            external_id="1000_2026",
            observed_at=now,
            comments=[
                PostComment(
                    external_id=f"2026_{i}", author="Ngô Thị Đào", text=t, created_at=due + (now - due) * f
                )
                for i, (t, f) in enumerate(zip(SAID, (0.2, 0.3, 0.4), strict=True))
            ],
        )
    )


async def test_the_report_page_shows_todays_figures_per_channel_and_exports_its_chart(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    start = start_of_today()
    due = start + (utcnow() - start) / 2  # earlier today in Vietnam, whatever the hour
    today = start.date()
    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        engine = app.state.tracker.engine
        title = "Thông cáo báo chí: Lễ hội Pháo hoa Quốc tế Đà Nẵng 2026"
        content = approved(CONTENT, TARGETS, unit=SO_TTTT, approved_at=due, publish_at=due, title=title)
        weekly = approved(
            "lich-tiep-cong-dan-tuan",
            [("facebook", "trang-ubnd")],
            unit=VAN_PHONG,
            approved_at=due,
            title="Lịch tiếp công dân tuần này của Chủ tịch UBND thành phố",
        )
        await apply_content_events(engine, [content, weekly])
        after = {"youtube": 95.0}  # the video went out 95 s after its time: late; the others 20 s: on time
        expired = (ErrorClass.AUTH, "190", "Error validating access token: Session has expired")
        await apply_statuses(
            engine,
            [
                *(
                    status(CONTENT, c, a, PUB, 3, at=due + timedelta(seconds=after.get(c, 20)), due_at=due)
                    for c, a in TARGETS
                ),
                status("lich-tiep-cong-dan-tuan", "facebook", "trang-ubnd", FAILED, 2, at=due, error=expired),
            ],
        )
        read = due + timedelta(minutes=10)
        accounts = dict(TARGETS)
        await record_samples(engine, [observed(CONTENT, c, accounts[c], read, m) for c, m in FIGURES.items()])
        await record_comments(engine, [citizens(due)], [], VolumeRule())
        ids = {c.text: c.id for c in await list_comments(engine, None)}
        await mark(engine, ids[SAID[0]], CommentState.ANSWERED, "Bắn 5 đêm, từ 31/5 đến 12/7.", "truc-ban")
        await mark(engine, ids[SAID[1]], CommentState.HIDDEN, None, "truc-ban")  # the false claim
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["admin"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")

        await page.get_by_role("link", name="Báo cáo lãnh đạo").click()
        await page.wait_for_url(f"{base}/reports")
        await expect(page.locator("h1")).to_have_text("Báo cáo lãnh đạo")
        form = page.locator("#report-range")
        await form.locator("input[name=from]").fill(today.isoformat())
        await form.locator("input[name=through]").fill(today.isoformat())
        await form.get_by_role("button", name="Khoảng thời gian").click()
        await page.wait_for_url(f"{base}/reports?from=*")
        day = today.strftime("%d/%m/%Y")
        await expect(page.locator("#report h2")).to_have_text(f"Mọi đơn vị được xem · {day} – {day}")

        def row(unit: str, channel: str) -> Locator:
            return page.locator(f"#report-table tr[data-unit='{unit}'][data-channel='{channel}']")

        facebook = row(SO_TTTT, "facebook")
        await expect(facebook.locator("[data-col=audience]")).to_have_text("12.480 Người tiếp cận")
        await expect(facebook.locator("[data-col=reactions]")).to_have_text("316")
        await expect(facebook.locator("[data-col=comments]")).to_have_text("41")
        await expect(facebook.locator("[data-col=shares]")).to_have_text("57")
        await expect(facebook.locator("[data-col=on_time_rate]")).to_have_text("100% (1/1)")
        youtube = row(SO_TTTT, "youtube")
        await expect(youtube.locator("[data-col=audience]")).to_have_text("2.734 Lượt xem")
        await expect(youtube.locator("[data-col=shares]")).to_have_text("—")  # YouTube gives none
        await expect(youtube.locator("[data-col=on_time_rate]")).to_have_text("0% (0/1)")
        await expect(row(SO_TTTT, "x").locator("[data-col=audience]")).to_have_text("5.120 Lượt hiển thị")
        await expect(row(SO_TTTT, "website").locator("[data-col=audience]")).to_have_text("chưa có số liệu")
        failed = row(VAN_PHONG, "facebook")
        await expect(failed.locator("[data-col=published]")).to_have_text("0")
        await expect(failed.locator("[data-col=on_time_rate]")).to_have_text("—")
        # three comments, two answered (one hidden), the "tin giả" alert answered by the hide
        heard = page.locator(f"#report-listening tr[data-unit='{SO_TTTT}'][data-channel='facebook']")
        for col, said in (("comments_received", "3"), ("comments_answered", "2"), ("alerts", "1"),
                          ("alerts_answered", "1")):  # fmt: skip
            await expect(heard.locator(f"[data-col={col}]")).to_have_text(said)
        for col in ("comment_answer_median", "alert_answer_median"):
            await expect(heard.locator(f"[data-col={col}]")).to_have_text(DURATION)
        await expect(page.locator("#report-listening tbody tr")).to_have_count(1)  # quiet rows left out
        await expect(page.locator("#report-listening-rule")).to_contain_text("“đã trả lời” hoặc “đã ẩn”")
        chart = page.locator("#report-chart")
        await expect(chart).to_be_visible()
        assert await chart.evaluate("img => img.complete && img.naturalWidth") == 1600
        await page.screenshot(path=str(screenshots / "tracker-report-1280.png"), full_page=True)

        async with page.expect_download() as downloading:
            await page.locator("#report-downloads").get_by_role("link", name="PNG").click()
        download = await downloading.value
        assert download.suggested_filename == f"bao-cao-tat-ca-{today.isoformat()}-{today.isoformat()}.png"
        image = Image.open(await download.path())
        assert (image.format, image.size) == ("PNG", (1600, 170 + 5 * 34))
        image.save(screenshots / "tracker-report-chart.png")

        await page.set_viewport_size({"width": 390, "height": 844})  # a phone
        await page.reload()
        await expect(page.locator("#report-table")).to_contain_text("12.480")
        await page.screenshot(path=str(screenshots / "tracker-report-390.png"), full_page=True)
        await browser.close()

        audit = await client.get("/api/v1/audit", params={"action": "export"}, headers=auth("admin"))
        span = f"{today.isoformat()}..{today.isoformat()}"
        assert [e["detail"] for e in audit.json()["items"]] == [
            f"report {span} png"
        ]  # the page's image is not

"""The inbox in headless Chromium: the watch's alert with its links, comments filtered by keyword, an
operator marking one hidden and one escalated with a note (the API says so after)."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import Comments, CommentsObserved, DeliveryState, PostComment, utcnow
from loa.events.comment_actions import CommentActionKind, CommentActionResult, CommentActionState
from loa.settings import LoaSettings
from services.tracker import comment_actions
from services.tracker.comments import record_comments
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.tables import post_comments
from services.tracker.watch import VolumeRule
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    create_topics,
    running_tracker,
    status,
    tracker_settings,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
CONTENT = "kham-suc-khoe-nguoi-cao-tuoi"
ACCOUNT = "so-ttt-da-nang"
SAID = [
    ("Nguyễn Văn An", "Cảm ơn thành phố đã thông tin kịp thời.", 50),
    ("Trần Thị Bích", "Người cao tuổi đăng ký ở đâu vậy ạ?", 40),
    ("Lê Hoàng Đức", "Đây là TIN GIẢ, đừng tin! Thành phố không hề có chủ trương này.", 12),
    ("Phạm Thu Hà", "Nghe nói ai đăng ký sẽ bị thu phí 500 nghìn, lừa đảo cả thôi.", 10),
    ("Đặng Quốc Bảo", "Tin giả đó, người nhà tôi ở phường bên nói khác hẳn.", 8),
]
NOTE = "Chuyển người phát ngôn: cần đính chính việc thu phí"


async def seeded(engine: AsyncEngine) -> None:
    """The content published on Facebook and the five comments the listener listed under it."""
    await apply_content_events(engine, [approved(CONTENT, [("facebook", ACCOUNT)])])
    await apply_statuses(engine, [status(CONTENT, "facebook", ACCOUNT, DeliveryState.PUBLISHED, 3)])
    now = utcnow()
    listed = Comments(
        content_id=CONTENT,
        version=1,
        channel="facebook",
        account=ACCOUNT,
        external_id=f"{ACCOUNT}_{CONTENT}",
        observed_at=now,
        comments=[
            PostComment(external_id=f"42_{i}", author=a, text=t, created_at=now - timedelta(minutes=m))
            for i, (a, t, m) in enumerate(SAID)
        ],
    )
    await record_comments(engine, [CommentsObserved(payload=listed)], [], VolumeRule())


async def signed_in(pw: Any, base: str) -> tuple[Any, Any]:
    """Chromium signed in as the operator, on the inbox."""
    browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{base}/login")
    await page.fill("#token", TOKENS["operator"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    await page.click("nav >> text=Bình luận")
    return browser, page


async def test_an_operator_finds_the_false_claims_and_marks_them(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        await seeded(app.state.tracker.engine)
        browser, page = await signed_in(pw, str(client.base_url))
        alerts = page.locator("#watch-alerts")
        await expect(alerts).to_contain_text('2 bình luận mới chứa "tin giả"')
        await expect(alerts).to_contain_text('1 bình luận mới chứa "lừa đảo"')
        await expect(alerts.locator("a", has_text="Xem bình luận").first).to_have_attribute(
            "href", f"/inbox?content={CONTENT}&channel=facebook"
        )
        await expect(page.locator("[data-comment]")).to_have_count(5)

        await page.fill("#inbox-filter input[name=keyword]", "tin gia")  # typed without marks
        await page.click("#inbox-filter button")
        rows = page.locator("[data-comment]")
        await expect(rows).to_have_count(2)
        first, second = rows.nth(0), rows.nth(1)
        await first.locator("select[name=state]").select_option("hidden")
        await first.locator("button", has_text="Đánh dấu").click()
        await expect(page.locator("#toast")).to_have_class(re.compile("show"))
        await page.wait_for_timeout(800)  # the list re-renders from the server after an action
        await second.locator("select[name=state]").select_option("escalated")
        await second.locator("input[name=note]").fill(NOTE)
        await second.locator("button", has_text="Đánh dấu").click()
        await page.wait_for_timeout(500)
        await page.reload()
        await expect(page.locator("[data-comment]").nth(1)).to_contain_text(NOTE)
        await page.screenshot(path=str(screenshots / "tracker-inbox.png"), full_page=True)
        await browser.close()

        answer = await client.get(
            "/api/v1/comments",
            params={"content": CONTENT, "keyword": "tin giả"},
            headers={"Authorization": f"Bearer {TOKENS['viewer']}"},
        )
        marks = [(c["state"], c["note"], c["state_by"]) for c in answer.json()]
        assert marks == [("hidden", None, "operator"), ("escalated", NOTE, "operator")]


REPLY = "Chào chị Bích, người cao tuổi đăng ký tại trạm y tế phường, không thu phí. Sở Y tế Đà Nẵng."


async def _outcome(engine: AsyncEngine, external_id: str, kind: CommentActionKind) -> CommentActionResult:
    """What the Facebook publisher answers once the platform took the action (its tests prove that part)."""
    query = select(post_comments.c.action_id).where(post_comments.c.external_id == external_id)
    async with engine.connect() as conn:
        action_id = (await conn.execute(query)).scalar_one()
    return CommentActionResult(
        content_id=CONTENT,
        channel="facebook",
        account=ACCOUNT,
        comment_id=external_id,
        action_id=action_id,
        kind=kind,
        state=CommentActionState.DONE,
        requested_by="operator",
        moderation="hidden" if kind is CommentActionKind.MODERATE else None,
        reply_id=f"{external_id}_9001" if kind is CommentActionKind.REPLY else None,
        reply_text=REPLY if kind is CommentActionKind.REPLY else None,
    )


async def test_an_operator_replies_and_hides_and_sees_sending_until_the_publisher_answers(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    await create_topics(settings)  # the tracker sends the commands on loa.commands.v1
    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        engine = app.state.tracker.engine
        await seeded(engine)
        browser, page = await signed_in(pw, str(client.base_url))
        page.on("dialog", lambda dialog: dialog.accept())
        asked = page.locator("[data-comment]", has_text="Người cao tuổi đăng ký ở đâu")
        await asked.locator("textarea[name=text]").fill(REPLY)
        await asked.locator("button", has_text="Trả lời").click()
        await expect(page.locator("#toast")).to_have_class(re.compile("show"))
        claim = page.locator("[data-comment]", has_text="lừa đảo cả thôi")
        await claim.locator("button", has_text="Ẩn").click()
        await page.wait_for_timeout(500)
        await page.reload()
        await expect(page.locator("[data-action-state=sending]")).to_have_count(2)
        await expect(asked.locator("button", has_text="Trả lời")).to_be_disabled()  # one action at a time

        await comment_actions.settle(
            engine,
            [
                await _outcome(engine, "42_1", CommentActionKind.REPLY),
                await _outcome(engine, "42_3", CommentActionKind.MODERATE),
            ],
        )
        await page.reload()
        await expect(page.locator("[data-action-state=sending]")).to_have_count(0)
        await expect(asked.locator("[data-office-reply]")).to_contain_text(REPLY)
        await expect(asked).to_contain_text("Đã trả lời")
        await expect(claim).to_contain_text("Đã ẩn")
        await expect(claim.locator("button", has_text="Ẩn")).to_have_count(0)
        await page.screenshot(path=str(screenshots / "tracker-inbox-reply.png"), full_page=True)
        await browser.close()

        audit = await client.get(
            "/api/v1/audit",
            params={"action": "comment_reply"},
            headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        )
        [entry] = audit.json()["items"]
        assert entry["actor"] == "operator" and entry["reason"] == REPLY

"""The planning calendar in headless Chromium, in Vietnamese: reached from the nav, this month's
posts on their Vietnamese days (urgent marked "Khẩn", held marked "Tạm dừng"), a scheduled post dragged to
another day and another moved with the "Dời lịch" form (the keyboard way), both as operator and
audited; a viewer sees no way to move. Screenshots at 1280 px: docs/img/tracker-calendar-*.png."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from loa.events import DEFAULT_TIMEZONE, DeliveryState, ErrorClass, Priority, utcnow
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.queries import start_of_today
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    create_topics,
    running_tracker,
    status,
    tracker_settings,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
SO_TTTT = "Sở Thông tin và Truyền thông Đà Nẵng"
VAN_PHONG = "Văn phòng UBND thành phố"
FB, ZALO, WEB = ("facebook", "trang-so-tttt"), ("zalo", "oa-da-nang"), ("website", "main")
S = DeliveryState


def at_local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` in Vietnam, ``day_offset`` days from today (Vietnam's)."""
    return start_of_today() + timedelta(days=day_offset, hours=hour, minutes=minute)


async def test_the_calendar_shows_the_month_and_moves_a_scheduled_post_by_drag_and_by_form(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    await create_topics(settings)
    now = utcnow()
    earlier = start_of_today() + (now - start_of_today()) / 2  # earlier today, whatever the hour
    drag_from = at_local(2, 9, 30)
    # the day it is dragged to: the day before (tomorrow), unless that is in the week before
    drag_to = drag_from + timedelta(days=1 if drag_from.weekday() == 0 else -1)
    contents = [
        approved("phao-hoa-quoc-te", [FB, ZALO, WEB], unit=SO_TTTT, approved_at=earlier, publish_at=earlier,
                 title="Thông cáo báo chí: Lễ hội Pháo hoa Quốc tế Đà Nẵng 2026", priority=Priority.URGENT),
        approved("lich-tiep-dan", [("facebook", "trang-ubnd")], unit=VAN_PHONG, approved_at=earlier,
                 publish_at=at_local(1, 8), title="Lịch tiếp công dân tuần này của Chủ tịch UBND thành phố"),
        approved("hop-bao-du-lich", [FB, ZALO], unit=SO_TTTT, approved_at=earlier, publish_at=drag_from,
                 title="Họp báo: mùa du lịch biển Đà Nẵng, Hội An"),
        approved("canh-bao-mua-lu", [FB], unit=SO_TTTT, approved_at=earlier, publish_at=at_local(3, 16, 45),
                 title="Cảnh báo mưa lũ: đóng đèo Hải Vân từ chiều nay"),
        approved("tong-ket-tuan", [WEB], unit=VAN_PHONG, approved_at=earlier - timedelta(days=1),
                 publish_at=at_local(-1, 17), title="Tổng kết công tác tuần của UBND thành phố"),
    ]  # fmt: skip
    expired = (ErrorClass.AUTH, "190", "Error validating access token: Session has expired")
    failed_at, sent = at_local(-1, 17), (FB, ZALO, WEB)
    statuses = [
        *(status("phao-hoa-quoc-te", *t, S.PUBLISHED, 3, at=earlier, due_at=earlier) for t in sent),
        status("lich-tiep-dan", "facebook", "trang-ubnd", S.HELD, 2, due_at=at_local(1, 8), note="held"),
        status("hop-bao-du-lich", *FB, S.SCHEDULED, 2, due_at=drag_from),
        status("hop-bao-du-lich", *ZALO, S.SCHEDULED, 2, due_at=drag_from),
        status("canh-bao-mua-lu", *FB, S.SCHEDULED, 2, due_at=at_local(3, 16, 45)),
        status("tong-ket-tuan", *WEB, S.FAILED, 2, at=failed_at, due_at=failed_at, error=expired),
    ]  # fmt: skip
    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        engine = app.state.tracker.engine
        await apply_content_events(engine, contents)
        await apply_statuses(engine, statuses)
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["operator"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")

        await page.get_by_role("link", name="Lịch phát hành").click()
        await page.wait_for_url(f"{base}/calendar")
        await expect(page.locator("h1")).to_have_text("Lịch phát hành")
        await expect(page.locator("#calendar-grid thead th").first).to_have_text("Thứ Hai")
        today = page.locator(f"td.cal-day[data-day='{start_of_today().date().isoformat()}']")
        await expect(today).to_have_class("cal-day today")
        urgent = today.locator("li.cal-item", has_text="Pháo hoa").first
        await expect(urgent.locator(".badge.urgent")).to_have_text("Khẩn")
        await expect(today.locator("li.cal-item")).to_have_count(3)  # three channels, published
        await expect(today.locator("li[draggable=true]")).to_have_count(0)  # sent: nothing to move
        held = page.locator("li.cal-item.held")
        await expect(held).to_have_count(1)
        await expect(held.locator(".badge.s-held")).to_have_text("Tạm dừng")
        await expect(held).not_to_have_attribute("draggable", "true")
        await page.screenshot(path=str(screenshots / "tracker-calendar-month.png"), full_page=True)

        # the week of the post to move, filtered to Facebook: drag it to another day, same time
        week = f"{base}/calendar?view=week&day={drag_from.date().isoformat()}&channel=facebook"
        await page.goto(week)
        await expect(page.locator("#calendar-grid tbody td")).to_have_count(7)
        await expect(page.locator("li.cal-item[data-delivery*=':zalo:']")).to_have_count(0)
        item = page.locator("li.cal-item", has_text="mùa du lịch biển")
        await expect(item).to_have_attribute("draggable", "true")
        await expect(item.locator(".cal-time")).to_have_text("09:30")
        await page.screenshot(path=str(screenshots / "tracker-calendar-week.png"), full_page=True)
        target = page.locator(f"td.cal-day[data-day='{drag_to.date().isoformat()}']")
        await item.drag_to(target)
        await expect(page.locator("#toast")).to_contain_text("Đã gửi yêu cầu")
        moved = target.locator("li.cal-item", has_text="mùa du lịch biển")
        await expect(moved).to_have_attribute("data-moved", f"{drag_to.date().isoformat()}T09:30")

        # the keyboard way: "Dời lịch" with a date and time (Vietnam's), here 07:15 two days later
        other = page.locator("li.cal-item", has_text="Cảnh báo mưa lũ")
        if await other.count() == 0:  # in the next week: go there
            await page.goto(f"{base}/calendar?view=week&day={at_local(3, 0).date().isoformat()}")
        other = page.locator("li.cal-item", has_text="Cảnh báo mưa lũ")
        await other.locator("summary").click()
        new_time = at_local(5, 7, 15)
        await other.locator("input[name=at]").fill(new_time.strftime("%Y-%m-%dT%H:%M"))
        await other.get_by_role("button", name="Dời lịch").click()
        await expect(other).to_have_attribute("data-moved", new_time.strftime("%Y-%m-%dT%H:%M"))

        await page.goto(f"{base}/calendar?lang=en")  # in English
        await expect(page.locator("h1")).to_have_text("Planning calendar")
        await expect(page.locator("#calendar-grid thead th").first).to_have_text("Mon")
        await expect(page.locator("li.cal-item.held .badge.s-held")).to_have_text("Held")

        # a viewer: the same calendar, nothing to drag and no "Dời lịch"
        viewer = await browser.new_page(viewport={"width": 1280, "height": 900})
        await viewer.goto(f"{base}/login")
        await viewer.fill("#token", TOKENS["viewer"])
        await viewer.click("button[type=submit]")
        await viewer.wait_for_url(f"{base}/")
        await viewer.goto(week)
        await expect(viewer.locator("li.cal-item", has_text="mùa du lịch biển")).to_have_count(1)
        await expect(viewer.locator("li[draggable=true], details.cal-move")).to_have_count(0)
        await browser.close()

        audit = await client.get("/api/v1/audit", params={"action": "reschedule"}, headers=auth("admin"))
        details = sorted(e["detail"] for e in audit.json()["items"])
        moved_to = (
            drag_to.strftime("%Y-%m-%d") + " 09:30",
            new_time.astimezone(DEFAULT_TIMEZONE).strftime("%Y-%m-%d %H:%M"),
        )
        assert details == sorted(
            [
                f"{drag_from.strftime('%Y-%m-%d')} 09:30 → {moved_to[0]} (Asia/Ho_Chi_Minh)",
                f"{at_local(3, 16, 45).strftime('%Y-%m-%d')} 16:45 → {moved_to[1]} (Asia/Ho_Chi_Minh)",
            ]
        )
        assert {e["actor"] for e in audit.json()["items"]} == {"operator"}


async def test_an_admin_issues_a_units_calendar_link_on_the_calendar_page_and_revokes_it(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    """The feed link shown once opens that unit's feed (a staff calendar's read, no sign-in); once
    revoked from the page it opens nothing; both audited as the admin; an operator sees no link."""
    from playwright.async_api import async_playwright, expect

    await create_topics(settings)
    earlier = start_of_today() + (utcnow() - start_of_today()) / 2
    contents = [
        approved("hop-bao-du-lich", [FB], unit=SO_TTTT, approved_at=earlier, publish_at=at_local(2, 9, 30),
                 title="Họp báo: mùa du lịch biển Đà Nẵng, Hội An"),
        approved("lich-tiep-dan", [("facebook", "trang-ubnd")], unit=VAN_PHONG, approved_at=earlier,
                 publish_at=at_local(1, 8), title="Lịch tiếp công dân tuần này của Chủ tịch UBND thành phố"),
    ]  # fmt: skip
    statuses = [
        status("hop-bao-du-lich", *FB, S.SCHEDULED, 2, due_at=at_local(2, 9, 30)),
        status("lich-tiep-dan", "facebook", "trang-ubnd", S.SCHEDULED, 2, due_at=at_local(1, 8)),
    ]
    ts = tracker_settings(settings, sqlite_url, tracker_consume=False)
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        await apply_content_events(app.state.tracker.engine, contents)
        await apply_statuses(app.state.tracker.engine, statuses)
        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        operator = await browser.new_page()
        await operator.goto(f"{base}/login")
        await operator.fill("#token", TOKENS["operator"])
        await operator.click("button[type=submit]")
        await operator.goto(f"{base}/calendar")
        await expect(operator.locator("#calendar-grid")).to_be_visible()
        await expect(operator.locator("#calendar-feeds")).to_have_count(0)

        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        await page.goto(f"{base}/login")
        await page.fill("#token", TOKENS["admin"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/calendar")
        feeds = page.locator("#calendar-feeds")
        await expect(feeds.locator("h2")).to_have_text("Lịch cho ứng dụng lịch (iCalendar)")
        await expect(feeds.locator("#feed-list-empty")).to_be_visible()
        await feeds.locator("select[name=unit]").select_option(SO_TTTT)
        await feeds.get_by_role("button", name="Tạo liên kết").click()
        await expect(feeds.locator("#feed-new")).to_be_visible()
        link = await feeds.locator("#feed-url").input_value()
        assert link.startswith(f"{base}/api/v1/calendar/") and "?key=" in link
        row = feeds.locator("#feed-list tbody tr")
        await expect(row).to_have_count(1)  # listed at once, the link still on screen
        await expect(row.locator("td").first).to_have_text(SO_TTTT)
        await expect(row).to_contain_text("Đang dùng")
        await feeds.screenshot(path=str(screenshots / "tracker-calendar-feeds.png"))

        async with httpx.AsyncClient() as calendar_app:  # a staff calendar: the link, nothing else
            read = await calendar_app.get(link)
            assert read.status_code == 200, read.text
            assert read.headers["content-type"].startswith("text/calendar")
            assert "mùa du lịch biển" in read.text and "tiếp công dân" not in read.text  # its unit only

            await row.get_by_role("button", name="Thu hồi").click()
            await expect(row).to_contain_text("Đã thu hồi")
            await expect(row.get_by_role("button", name="Thu hồi")).to_have_count(0)
            assert (await calendar_app.get(link)).status_code == 401
        await browser.close()

        audit = await client.get("/api/v1/audit", headers=auth("admin"))
        mine = [e for e in audit.json()["items"] if "calendar feed" in (e["detail"] or "")]
        assert sorted(e["action"] for e in mine) == ["token_issued", "token_revoked"]
        assert {e["actor"] for e in mine} == {"admin"} and {e["unit"] for e in mine} == {SO_TTTT}

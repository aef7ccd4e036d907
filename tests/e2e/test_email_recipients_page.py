"""The delivery page of an e-mail press release in headless Chromium: the counts per state and each
recipient, named (name, outlet) for the press list's spokesperson and by id for a viewer of the
unit, the relay's reply escaped and cut, never an address."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from loa.events import DeliveryState, delivery_id
from loa.events.delivery import recipients_report
from loa.press import recipient_id
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
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
from tests.integration.tracker.test_delivery_recipients import (
    GONE,
    LIST,
    PEOPLE,
    SPOKESPERSON,
    STATES,
    UNIT,
    UNIT_VIEWER,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
CONTENT = "thong-cao-bao-chi-ket-qua-hoi-nghi"
MARKUP = {
    "name": "Phạm Quốc Đông",
    "outlet": "Báo Điện tử Chính phủ",
    "email": "dong.pham@baochinhphu.example.vn",
}
# A relay's reply is text from outside: markup in it must show as text, and a long one is cut
MARKUP_REPLY = "5.7.1 <b>Thư bị từ chối</b> theo chính sách của máy chủ nhận: " + "bị đánh dấu spam " * 8


async def _signed_in(browser: Any, base: str, token: str) -> Any:
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(f"{base}/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    return page


async def test_the_delivery_page_shows_recipients_by_name_to_the_spokesperson_only(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    await create_topics(settings)  # adding the press list sends account.set
    tokens: dict[str, Any] = {name: {"token": tok, "role": name} for name, tok in TOKENS.items()}
    tokens |= {
        "phat-ngon": {"token": SPOKESPERSON, "role": "spokesperson", "units": [UNIT]},
        "xem": {"token": UNIT_VIEWER, "role": "viewer", "units": [UNIT]},
    }
    ts = tracker_settings(settings, sqlite_url, tracker_consume=False, tracker_tokens=tokens)
    did = delivery_id(CONTENT, "email", LIST)
    refused = {"state": "bounced", "code": 554, "reply": MARKUP_REPLY}
    states = STATES | {recipient_id(MARKUP["email"]): refused}
    async with running_tracker(ts) as (app, client), async_playwright() as pw:
        people = [{**p, "unit": UNIT, "consent_date": "2025-10-01"} for p in [*PEOPLE, MARKUP]]
        account = {"channel": "email", "name": LIST, "unit": UNIT, "options": {"recipients": people}}
        assert (await client.post("/api/v1/accounts", headers=auth("admin"), json=account)).status_code == 201
        engine = app.state.tracker.engine
        await apply_content_events(engine, [approved(CONTENT, (("email", LIST),), unit=UNIT)])
        note = "5 người nhận: 2 đã gửi, 1 đang chờ gửi lại, 2 bị trả lại"
        report = recipients_report(states)
        published = status(CONTENT, "email", LIST, DeliveryState.PUBLISHED, 3, note=note, recipients=report)
        await apply_statuses(engine, [published])

        base = str(client.base_url)
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await _signed_in(browser, base, SPOKESPERSON)
        await page.goto(f"{base}/contents/{CONTENT}")
        await page.click(f"[data-delivery='{did}'] .recipients-link")
        await page.wait_for_url(f"{base}/deliveries/{did}#recipients")
        counts = page.locator("#recipient-counts")
        for label, n in (("Đã gửi", 2), ("Đang chờ gửi lại", 1), ("Bị trả lại", 2), ("Khiếu nại", 0)):
            await expect(counts).to_contain_text(f"{label} {n}")
        rows = page.locator("#recipient-table tbody tr")
        await expect(rows).to_have_count(5)
        bounced = page.locator(f"tr[data-recipient='{recipient_id(PEOPLE[1]['email'])}']")
        await expect(bounced).to_contain_text("Nguyễn Văn Đạt")
        await expect(bounced).to_contain_text("Đài Tiếng nói Việt Nam")
        await expect(bounced).to_contain_text("550")
        markup = page.locator(f"tr[data-recipient='{recipient_id(MARKUP['email'])}'] .smtp-reply")
        await expect(markup).to_contain_text("<b>Thư bị từ chối</b>")  # shown as text, not bold
        assert await page.locator(".smtp-reply b").count() == 0
        shown = await markup.inner_text()
        assert len(shown) <= 120 and shown.endswith("…")
        assert (await markup.get_attribute("title") or "").startswith("5.7.1 <b>Thư bị từ chối</b>")
        gone = page.locator(f"tr[data-recipient='{recipient_id(GONE)}']")
        await expect(gone).to_contain_text("không còn trong danh sách")
        assert "@" not in await page.locator("main").inner_text()
        await page.screenshot(path=str(screenshots / "tracker-email-recipients.png"), full_page=True)

        viewer = await _signed_in(browser, base, UNIT_VIEWER)
        await viewer.goto(f"{base}/deliveries/{did}?lang=en")
        await expect(viewer.locator("#recipients-hidden")).to_contain_text("Names and outlets show only")
        await expect(viewer.locator("#recipient-counts")).to_contain_text("Bounced 2")
        table = await viewer.locator("#recipient-table").inner_text()
        assert recipient_id(PEOPLE[1]["email"]) in table
        assert "Nguyễn Văn Đạt" not in table and "Tuổi Trẻ" not in table and "@" not in table
        await browser.close()

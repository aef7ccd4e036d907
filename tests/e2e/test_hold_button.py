"""The hold switch in real headless Chromium: "Tạm dừng phát hành", release, a late item sent now.

A small fake publisher of our own answers the commands on Kafka as the channel's publisher
would (``held`` on the hold; still ``held``, late, on the release; ``published`` when sent now);
the publisher's own behaviour is tested in tests/integration/publisher/test_publisher_holds.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from loa.events import (
    LATE_NOTE,
    Command,
    HoldPublishing,
    ReleaseDelivery,
    ReleasePublishing,
    parse_command,
    topics,
    utcnow,
)
from loa.events import DeliveryState as S
from loa.kafka_security import client_security
from loa.settings import LoaSettings
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("chromium"), reason="apt-get install chromium"),
]
ARTICLE = "tb-bao-so-9"
ACCOUNT = "so-ttt-da-nang"
DID = f"{ARTICLE}:facebook:{ACCOUNT}"
REASON = "Thông tin về bão số 9 ở Đà Nẵng đang được xác minh lại"


@contextlib.asynccontextmanager
async def fake_publisher(settings: LoaSettings, p: AIOKafkaProducer) -> AsyncIterator[list[Command]]:
    seen: list[Command] = []
    consumer = AIOKafkaConsumer(
        settings.topic(topics.COMMANDS),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    sequence = 2

    async def emit(state: S, note: str | None = None) -> None:
        nonlocal sequence
        sequence += 1
        update = status(ARTICLE, "facebook", ACCOUNT, state, sequence, note=note)
        await send(p, settings, topics.DELIVERY, [update])

    async def answer() -> None:
        async for record in consumer:
            command = parse_command(record.value)
            seen.append(command)
            if isinstance(command, HoldPublishing):
                await emit(S.HELD)
            elif isinstance(command, ReleasePublishing):
                await emit(S.HELD, LATE_NOTE)  # its time passed during the hold: it stays, for ops
            elif isinstance(command, ReleaseDelivery):
                await emit(S.PUBLISHING)
                await emit(S.PUBLISHED)

    task = asyncio.create_task(answer())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


async def test_the_hold_button_holds_and_a_late_item_is_sent_now(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    await create_topics(settings)
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        soon = utcnow() + timedelta(minutes=1)
        await send(p, settings, topics.CONTENT, [approved(ARTICLE, [("facebook", ACCOUNT)], publish_at=soon)])
        await send(p, settings, topics.DELIVERY, [status(ARTICLE, "facebook", ACCOUNT, S.SCHEDULED, 2)])

        async def seeded() -> bool:
            r = await client.get("/api/v1/deliveries", params={"state": "scheduled"}, headers=auth("viewer"))
            return bool(r.json()["total"] == 1)

        await eventually(seeded, what="seed data")
        base = str(client.base_url)
        async with fake_publisher(settings, p) as seen, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/login")
            await page.fill("#token", TOKENS["operator"])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/")
            await expect(page.locator("#live-dot.on")).to_be_visible()

            panel = page.locator("#holds")
            await expect(panel).to_contain_text("Không có lệnh tạm dừng nào.")
            hold_button = panel.get_by_role("button", name="Tạm dừng phát hành")
            await hold_button.click()  # no reason: the browser asks for one, nothing is sent
            assert (await client.get("/api/v1/holds", headers=auth("viewer"))).json() == []
            await panel.locator("input[name=reason]").fill(REASON)
            await panel.locator("select[name=channel]").select_option("facebook")
            await hold_button.click()
            await expect(page.locator("#toast")).to_contain_text("Đã gửi yêu cầu")
            await expect(panel.locator("li[data-hold]")).to_contain_text(REASON, timeout=10_000)
            await expect(page.locator('dd[data-held="facebook"]')).to_have_text("1", timeout=10_000)
            await page.screenshot(path=str(screenshots / "tracker-hold.png"), full_page=True)

            page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await panel.get_by_role("button", name="Tiếp tục phát hành").click()
            late = panel.locator(f'li[data-late="{DID}"]')
            await expect(late).to_be_visible(timeout=10_000)
            await expect(panel).to_contain_text("Bài đã quá giờ trong lúc tạm dừng")
            await page.screenshot(path=str(screenshots / "tracker-hold-late.png"), full_page=True)
            await late.get_by_role("button", name="Đăng ngay").click()
            await expect(late).to_have_count(0, timeout=10_000)
            await expect(page.locator('dd[data-held="facebook"]')).to_have_text("0")
            await browser.close()

        kinds = [(c.type, c.payload.requested_by) for c in seen]
        assert kinds == [
            ("publishing.hold", "tracker:operator"),
            ("publishing.release", "tracker:operator"),
            ("delivery.release", "tracker:operator"),
        ]
        hold = seen[0]
        assert isinstance(hold, HoldPublishing)
        assert (hold.payload.channel, hold.payload.unit, hold.payload.reason) == ("facebook", None, REASON)

"""The ops dashboard in real headless Chromium: a failed delivery, retry, published live.

A small fake publisher of our own answers the retry command on Kafka by emitting the
``published`` status event, as the channel's publisher would.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from loa.events import (
    ContentApproved,
    DeliveryStatus,
    ErrorClass,
    RetryDelivery,
    parse_command,
    topics,
    utcnow,
)
from loa.events import DeliveryState as S
from loa.kafka_security import client_security
from loa.settings import LoaSettings
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
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAILING = "tb-2026-0412"


def _seed() -> tuple[list[ContentApproved], list[DeliveryStatus]]:
    now = utcnow()
    a, b = "Vụ Truyền thông và Báo chí", "Văn phòng Bộ"
    contents = [
        approved(
            FAILING,
            [("facebook", "bo-thong-tin"), ("website", "main"), ("zalo", "oa-bo")],
            unit=a,
            title="Thông báo lịch tiếp công dân định kỳ tháng 12 năm 2026",
            approved_at=now - timedelta(minutes=9),
        ),
        approved(
            "tc-2026-0188",
            [("facebook", "bo-thong-tin"), ("website", "main"), ("youtube", "kenh-bo")],
            unit=a,
            title="Đà Nẵng: Hội nghị xúc tiến đầu tư vào khu công nghệ cao",
            approved_at=now - timedelta(minutes=30),
        ),
        approved(
            "tt-2026-0077",
            [("website", "main"), ("zalo", "oa-bo")],
            unit=b,
            title="Đính chính thông tin về tiến độ dự án đường Hồ Chí Minh",
            approved_at=now - timedelta(minutes=50),
        ),
        approved(
            "lh-2026-0031",
            [("facebook", "bo-thong-tin")],
            unit=b,
            title="Lịch họp báo Chính phủ thường kỳ",
            approved_at=now - timedelta(minutes=5),
            publish_at=now + timedelta(hours=3),
        ),
    ]
    token_expired = (ErrorClass.AUTH, "190", "Error validating access token: Session has expired")
    statuses = [
        status(FAILING, "facebook", "bo-thong-tin", S.PUBLISHING, 1, at=now - timedelta(minutes=8)),
        status(
            FAILING,
            "facebook",
            "bo-thong-tin",
            S.FAILED,
            2,
            at=now - timedelta(minutes=8),
            error=token_expired,
        ),
        status(FAILING, "website", "main", S.PUBLISHED, 2, at=now - timedelta(minutes=8, seconds=40)),
        status(FAILING, "zalo", "oa-bo", S.PUBLISHED, 2, at=now - timedelta(minutes=8, seconds=30)),
        status("tc-2026-0188", "facebook", "bo-thong-tin", S.PUBLISHED, 2, at=now - timedelta(minutes=29)),
        status("tc-2026-0188", "website", "main", S.PUBLISHED, 2, at=now - timedelta(minutes=29, seconds=50)),
        status(
            "tc-2026-0188",
            "youtube",
            "kenh-bo",
            S.RETRYING,
            3,
            at=now - timedelta(minutes=2),
            error=(
                ErrorClass.TRANSIENT,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            ),
        ),
        status("tt-2026-0077", "website", "main", S.PUBLISHED, 2, at=now - timedelta(minutes=49)),
        status(
            "tt-2026-0077",
            "zalo",
            "oa-bo",
            S.NEEDS_ATTENTION,
            2,
            at=now - timedelta(minutes=48),
            error=(ErrorClass.PERMANENT, "-216", "Nội dung vượt quá độ dài cho phép của Zalo OA"),
        ),
        status(
            "lh-2026-0031",
            "facebook",
            "bo-thong-tin",
            S.SCHEDULED,
            1,
            at=now - timedelta(minutes=5),
            due_at=now + timedelta(hours=3),
        ),
    ]
    return contents, statuses


@contextlib.asynccontextmanager
async def fake_publisher(settings: LoaSettings, p: AIOKafkaProducer) -> AsyncIterator[list[RetryDelivery]]:
    """Answers ``delivery.retry`` with publishing → published, next sequences."""
    seen: list[RetryDelivery] = []
    consumer = AIOKafkaConsumer(
        settings.topic(topics.COMMANDS),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
    )
    await consumer.start()

    async def answer() -> None:
        async for record in consumer:
            command = parse_command(record.value)
            if not isinstance(command, RetryDelivery):
                continue
            seen.append(command)
            ref = command.payload
            await asyncio.sleep(0.8)  # long enough to see "publishing" in the page
            await send(
                p,
                settings,
                topics.DELIVERY,
                [status(ref.content_id, ref.channel, ref.account, S.PUBLISHING, 3, attempt=2)],
            )
            await asyncio.sleep(0.8)
            await send(
                p,
                settings,
                topics.DELIVERY,
                [status(ref.content_id, ref.channel, ref.account, S.PUBLISHED, 4, attempt=2)],
            )

    task = asyncio.create_task(answer())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


@contextlib.asynccontextmanager
async def seeded_tracker(
    settings: LoaSettings, sqlite_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, AIOKafkaProducer]]:
    """A tracker that has taken in ``_seed()`` (its failed delivery listed), and a producer."""
    await create_topics(settings)
    contents, statuses = _seed()
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        await send(p, settings, topics.CONTENT, contents)
        await send(p, settings, topics.DELIVERY, statuses)

        async def seeded() -> bool:
            r = await client.get("/api/v1/deliveries", params={"state": "failed"}, headers=auth("viewer"))
            return bool(r.json()["total"] == 1)

        await eventually(seeded, what="seed data")
        yield client, p


async def test_failed_delivery_retried_from_the_dashboard_becomes_published_live(
    settings: LoaSettings, sqlite_url: str, screenshots: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    async with seeded_tracker(settings, sqlite_url) as (client, p):
        base = str(client.base_url)
        async with fake_publisher(settings, p) as retries, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/")
            assert "/login" in page.url  # the dashboard needs a token
            await page.fill("#token", TOKENS["operator"])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/")
            cookies = await page.context.cookies()
            session = next(c for c in cookies if c["name"] == "loa_tracker_session")
            assert session["httpOnly"]
            assert session["sameSite"] == "Strict"
            assert TOKENS["operator"] not in session["value"]
            await expect(page.locator("#live-dot.on")).to_be_visible()
            # the tests run in development (tests/conftest.py): posts would go to the sandbox
            await expect(page.locator("#sandbox-banner")).to_contain_text("SANDBOX")

            problem = page.locator(f'li.problem[data-delivery="{FAILING}:facebook:bo-thong-tin"]')
            await expect(problem.locator(".badge")).to_have_text("Thất bại")
            await expect(problem.locator(".reason")).to_contain_text("kết nối lại")
            await page.screenshot(path=str(screenshots / "tracker-overview.png"), full_page=True)

            await problem.locator("a.title").click()
            await page.wait_for_url(f"{base}/contents/{FAILING}")
            await expect(page.locator("#live-dot.on")).to_be_visible()
            await page.evaluate("window.__sameDocument = true")
            delivery = page.locator(f'li.delivery[data-delivery="{FAILING}:facebook:bo-thong-tin"]')
            await expect(delivery.locator(".badge")).to_have_text("Thất bại")
            await delivery.get_by_role("button", name="Thử lại").click()
            await expect(page.locator("#toast")).to_contain_text("Đã gửi yêu cầu")
            await expect(delivery.locator(".badge")).to_have_text("Đã đăng", timeout=15_000)
            assert await page.evaluate("window.__sameDocument === true")  # updated live, not reloaded
            await expect(delivery.locator("a.post-link")).to_have_attribute(
                "href", f"https://www.facebook.com/bo-thong-tin/posts/{FAILING}"
            )
            await expect(delivery.locator(".target-host")).to_have_text("→ 127.0.0.1:8090")  # where it went
            await expect(page.locator(".timeline")).to_contain_text("Yêu cầu thử lại")
            await expect(page.locator("#toast.show")).to_have_count(0, timeout=8_000)
            await page.screenshot(path=str(screenshots / "tracker-content.png"), full_page=True)

            # the per-unit report for a date range
            await page.goto(f"{base}/units")
            await expect(page.locator("table.list").first).to_contain_text("Vụ Truyền thông và Báo chí")
            await expect(page.locator("table.list").last).to_contain_text("Không đăng được vĩnh viễn [-216]")

            # English on request; a phone's width without sideways scrolling
            await page.goto(f"{base}/?lang=en")
            await expect(page.locator("h1")).to_have_text("Overview")
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto(f"{base}/contents/{FAILING}")
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            await browser.close()
        assert [(r.payload.channel, r.payload.requested_by) for r in retries] == [
            ("facebook", "tracker:operator")
        ]

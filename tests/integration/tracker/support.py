"""Helpers for the tracker's tests: events with Vietnamese content, a running tracker, a producer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI

from loa.events import (
    Content,
    ContentApproved,
    Delivery,
    DeliveryError,
    DeliveryState,
    DeliveryStatus,
    Engagement,
    EngagementObserved,
    ErrorClass,
    Metric,
    Priority,
    Target,
    topics,
    utcnow,
)
from loa.events.delivery import RecipientsReport
from loa.kafka_security import client_security
from loa.settings import LoaSettings
from services.tracker.app import create_app
from services.tracker.settings import TrackerSettings
from tests.support.kafka import FETCH_WAIT_MS, produce, started_producer
from tests.support.serve import serving

TOKENS = {
    "viewer": "viewer-token-0123456789abcdef-0123456789",
    "operator": "operator-token-0123456789abcdef-0123456789",
    "admin": "admin-token-0123456789abcdef-0123456789",
}
SANDBOX_HOST = "127.0.0.1:8090"
"""Where published deliveries went: the sandbox, as in development."""
TITLE = "Đà Nẵng: Thông cáo báo chí về kết quả Hội nghị xúc tiến đầu tư năm 2026"
UNIT = "Vụ Truyền thông và Báo chí"
POST_URLS = {
    "facebook": "https://www.facebook.com/{a}/posts/{id}",
    "website": "https://mic.gov.vn/tin-tuc/{id}.htm",
    "zalo": "https://zalo.me/{a}/article/{id}",
    "youtube": "https://www.youtube.com/watch?v={id}",
}


def tracker_settings(base: LoaSettings, db_url: str, **overrides: Any) -> TrackerSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap": base.kafka_bootstrap,
        "topic_prefix": base.topic_prefix,
        "database_url": db_url,
        "tracker_group_id": f"loa-tracker-{base.topic_prefix.strip('.')}",
        "tracker_tokens": {name: {"token": tok, "role": name} for name, tok in TOKENS.items()},
        "tracker_batch_timeout_ms": 20,
        # no 200 ms hold of the status fetch: tests read right after a content's events land (the hold
        # itself: tests/unit/tracker/test_status_linger.py; bench/tracker.py measures it with a real stream)
        "tracker_status_linger_ms": 0,
        "tracker_fetch_wait_ms": FETCH_WAIT_MS,
    }
    values.update(overrides)
    return TrackerSettings(**values)


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


async def create_topics(settings: LoaSettings, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await admin.start()
    try:
        names = [settings.topic(t) for t in topics.ALL]
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def running_tracker(settings: TrackerSettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The tracker served by uvicorn on 127.0.0.1 (an ephemeral port), and an HTTP client for it."""
    app = create_app(settings)
    async with serving(app) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15.0) as client:
            yield app, client


def producer(settings: LoaSettings) -> contextlib.AbstractAsyncContextManager[AIOKafkaProducer]:
    return started_producer(settings, linger_ms=5)


async def send(p: AIOKafkaProducer, settings: LoaSettings, topic: str, events: Sequence[Any]) -> None:
    await produce(p, settings, topic, events, _key)


def _key(event: Any) -> str:
    payload = event.payload
    return str(getattr(payload, "content_id", None) or payload.id)


def approved(
    content_id: str,
    targets: Sequence[tuple[str, str]] = (("facebook", "so-ttt-da-nang"), ("website", "main")),
    *,
    unit: str = UNIT,
    approved_at: datetime | None = None,
    publish_at: datetime | None = None,
    title: str = TITLE,
    priority: Priority = Priority.NORMAL,
) -> ContentApproved:
    return ContentApproved(
        payload=Content(
            id=content_id,
            version=1,
            title=title,
            summary="Sáng nay, UBND thành phố Đà Nẵng tổ chức Hội nghị xúc tiến đầu tư.",
            body="<p>Đường Nguyễn Văn Linh được chỉnh trang; Đoàn công tác đã đến Đồng Nai.</p>",
            unit=unit,
            approved_by="Nguyễn Thị Hồng Nhung",
            approved_at=approved_at or utcnow(),
            publish_at=publish_at,
            targets=[Target(channel=c, account=a) for c, a in targets],
            priority=priority,
        )
    )


def status(
    content_id: str,
    channel: str,
    account: str,
    state: DeliveryState,
    sequence: int,
    *,
    attempt: int = 1,
    at: datetime | None = None,
    due_at: datetime | None = None,
    error: tuple[ErrorClass, str, str] | None = None,
    note: str | None = None,
    recipients: RecipientsReport | None = None,
) -> DeliveryStatus:
    published = state is DeliveryState.PUBLISHED
    return DeliveryStatus(
        occurred_at=at or utcnow(),
        producer=f"loa-publisher-{channel}",
        payload=Delivery(
            content_id=content_id,
            version=1,
            channel=channel,
            account=account,
            state=state,
            attempt=attempt,
            sequence=sequence,
            due_at=due_at,
            note=note,
            external_id=f"{account}_{content_id}" if published else None,
            public_url=POST_URLS.get(channel, "https://example.gov.vn/{id}").format(a=account, id=content_id)
            if published
            else None,
            error=(
                DeliveryError(error_class=error[0], code=error[1], message=error[2], excerpt='{"error": "…"}')
                if error
                else None
            ),
            target_host=SANDBOX_HOST if published else None,  # the call's answer records where it went
            recipients=recipients,
        ),
    )


def observed(
    content_id: str, channel: str, account: str, at: datetime, metrics: dict[Metric, int]
) -> EngagementObserved:
    """One reading of the listener: a post's figures at ``at``."""
    return EngagementObserved(
        payload=Engagement(
            content_id=content_id,
            version=1,
            channel=channel,
            account=account,
            external_id=f"{account}_{content_id}",
            observed_at=at,
            metrics=metrics,
        )
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 20.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


async def command_records(settings: LoaSettings) -> list[tuple[bytes, bytes]]:
    """(key, value) of every record on the commands topic of ``settings``' prefix, from the start."""
    consumer = AIOKafkaConsumer(
        settings.topic(topics.COMMANDS),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()
    return [(r.key, r.value) for rs in batch.values() for r in rs]

"""The outbox keeps what was sent an hour, then its relay deletes it.

Nothing deleted sent rows before session 46: every delivery left its status events and, since the
payloads go through the outbox (``loa.payload.v1``), what it sent, in the job store for ever. Real
Kafka; the job store on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from loa.events import topics, utcnow
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.relay import SENT_KEPT, OutboxRelay
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import outbox
from tests.integration.tracker.support import eventually

pytestmark = pytest.mark.integration


async def test_sent_rows_older_than_an_hour_are_deleted_and_nothing_else(
    pub_settings: PublisherSettings,
) -> None:
    engine = make_engine(pub_settings.job_store_url("fakechan"))
    await migrate(engine)
    store = JobStore(engine, "fakechan")
    now = utcnow()
    old, recent = now - SENT_KEPT - timedelta(minutes=5), now - timedelta(minutes=5)
    payload = '{"content_id": "tb-cu", "title": "Thông báo cũ của Sở Tư pháp"}'
    rows: list[dict[str, Any]] = [
        *({"key": f"tb-cu-{i}", "payload": payload, "created_at": old, "sent_at": old} for i in range(3)),
        {"key": "a" * 64, "payload": payload, "created_at": old, "sent_at": old, "topic": topics.PAYLOAD},
        {"key": "tb-moi", "payload": payload, "created_at": recent, "sent_at": recent},
        {"key": "tb-cho", "payload": payload, "created_at": old, "sent_at": None},  # never sent: kept
    ]
    async with engine.begin() as conn:
        for row in rows:
            await conn.execute(insert(outbox).values(**row))

    async def left() -> list[str]:
        async with engine.connect() as conn:
            return list((await conn.execute(select(outbox.c.key).order_by(outbox.c.id))).scalars())

    relay = OutboxRelay(store, pub_settings, RuntimeMetrics("fakechan"))
    running = asyncio.create_task(relay.run())  # its first round prunes what an earlier run left
    try:

        async def pruned() -> bool:
            return await left() != [r["key"] for r in rows]

        await eventually(pruned, within=15, what="the old sent rows deleted")
        # the unsent row was sent meanwhile; it and the recent one stay (sent less than an hour ago)
        assert await left() == ["tb-moi", "tb-cho"]
    finally:
        await relay.stop()
        await running
        await engine.dispose()

"""Status events out of order and duplicated end in the right state; a restart loses nothing."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiokafka import AIOKafkaConsumer

from loa.events import DeliveryState as S
from loa.events import ErrorClass, topics
from loa.kafka_security import client_security
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
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

pytestmark = pytest.mark.integration


async def test_out_of_order_and_duplicates_end_in_the_right_state(settings: LoaSettings, db_url: str) -> None:
    await create_topics(settings)
    ts = tracker_settings(settings, db_url)
    fb = [
        status("tin-001", "facebook", "so-ttt-da-nang", S.SCHEDULED, 1),
        status("tin-001", "facebook", "so-ttt-da-nang", S.PUBLISHING, 2),
        status(
            "tin-001", "facebook", "so-ttt-da-nang", S.RETRYING, 3, error=(ErrorClass.TRANSIENT, "2", "Lỗi")
        ),
        status("tin-001", "facebook", "so-ttt-da-nang", S.PUBLISHING, 4, attempt=2),
        status("tin-001", "facebook", "so-ttt-da-nang", S.PUBLISHED, 5, attempt=2),
    ]
    web = [
        status("tin-001", "website", "main", S.SCHEDULED, 1),
        status("tin-001", "website", "main", S.FAILED, 2, error=(ErrorClass.PERMANENT, "413", "Quá dài")),
    ]
    shuffled = fb + web + fb[1:3] + web[:1]  # every event, plus duplicates
    random.Random(7).shuffle(shuffled)
    # the published event comes first and last: a later stale "publishing" must not undo it
    shuffled = [fb[4], *shuffled, fb[1]]
    async with running_tracker(ts) as (_, client), producer(settings) as p:
        await send(p, settings, topics.CONTENT, [approved("tin-001")])
        await send(p, settings, topics.DELIVERY, shuffled)

        async def settled() -> bool:
            r = await client.get("/api/v1/contents/tin-001", headers=auth("viewer"))
            if r.status_code != 200:
                return False
            states = {d["channel"]: d["state"] for d in r.json()["deliveries"]}
            return len(r.json()["timeline"]) >= 8 and states == {"facebook": "published", "website": "failed"}

        await eventually(settled, what="both deliveries to settle")
        body = (await client.get("/api/v1/contents/tin-001", headers=auth("viewer"))).json()
    by_channel = {d["channel"]: d for d in body["deliveries"]}
    facebook = by_channel["facebook"]
    assert facebook["sequence"] == 5
    assert facebook["attempt"] == 2
    assert facebook["public_url"] == "https://www.facebook.com/so-ttt-da-nang/posts/tin-001"
    assert facebook["published_at"] is not None
    website = by_channel["website"]
    assert website["last_error"] == {"error_class": "permanent", "code": "413", "message": "Quá dài"}
    statuses = [e for e in body["timeline"] if e["kind"] == "delivery.status"]
    # history holds each (delivery, sequence) exactly once, duplicates dropped
    assert sorted((e["channel"], e["sequence"]) for e in statuses) == sorted(
        [("facebook", n) for n in range(1, 6)] + [("website", 1), ("website", 2)]
    )
    approvals = [e for e in body["timeline"] if e["kind"] == "content.approved"]
    assert approvals[0]["actor"] == "Nguyễn Thị Hồng Nhung"
    assert body["title"].startswith("Đà Nẵng")


async def test_restart_loses_nothing_and_invalid_messages_go_to_the_dlq(
    settings: LoaSettings, db_url: str
) -> None:
    await create_topics(settings)
    ts = tracker_settings(settings, db_url)
    ids = [f"bai-{n:03d}" for n in range(40)]
    async with producer(settings) as p:
        async with running_tracker(ts) as (_, client):
            await send(p, settings, topics.DELIVERY, [status(i, "zalo", "oa-1", S.SCHEDULED, 1) for i in ids])
            await p.send_and_wait(settings.topic(topics.DELIVERY), b'{"type": "delivery.status"}', key=b"x")

            async def all_scheduled() -> bool:
                r = await client.get(
                    "/api/v1/deliveries", params={"state": "scheduled"}, headers=auth("viewer")
                )
                return r.json()["total"] == len(ids)

            await eventually(all_scheduled, what="first half")
        # the tracker is down while the publishers go on
        await send(p, settings, topics.DELIVERY, [status(i, "zalo", "oa-1", S.PUBLISHED, 2) for i in ids])
        async with running_tracker(ts) as (_, client):

            async def all_published() -> bool:
                r = await client.get(
                    "/api/v1/deliveries", params={"state": "published"}, headers=auth("viewer")
                )
                return r.json()["total"] == len(ids)

            await eventually(all_published, what="events sent while down")
            r = await client.get("/api/v1/deliveries", params={"state": "scheduled"}, headers=auth("viewer"))
            assert r.json()["total"] == 0
    dlq = AIOKafkaConsumer(
        settings.topic(topics.dlq(topics.DELIVERY)),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await dlq.start()
    try:
        record = await dlq.getone()
    finally:
        await dlq.stop()
    headers = {k: v.decode() for k, v in record.headers}
    assert "payload: Field required" in headers["loa-dlq-reason"]
    assert record.value == b'{"type": "delivery.status"}'


async def test_a_failed_write_is_not_committed_and_is_applied_once_the_store_is_back(
    settings: LoaSettings, db_url: str
) -> None:
    from sqlalchemy import text

    from services.tracker.db import make_engine

    await create_topics(settings)
    ts = tracker_settings(settings, db_url)
    async with running_tracker(ts) as (_, client), producer(settings) as p:
        engine = make_engine(db_url)
        try:
            async with engine.begin() as conn:  # the store "breaks": the table is gone
                await conn.execute(text("ALTER TABLE delivery_history RENAME TO delivery_history_away"))
            await send(p, settings, topics.DELIVERY, [status("tin-5", "youtube", "kenh-bo", S.PUBLISHED, 4)])
            await asyncio.sleep(3)
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE delivery_history_away RENAME TO delivery_history"))
        finally:
            await engine.dispose()

        async def applied() -> bool:
            r = await client.get("/api/v1/deliveries", params={"state": "published"}, headers=auth("viewer"))
            return bool(r.json()["total"] == 1)

        await eventually(applied, within=30, what="the batch consumed again after the failure")

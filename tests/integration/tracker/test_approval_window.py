"""Deliveries of contents approved in a window, each with its approval time; the consumer lag gauge."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from loa.consumer_lag import uncommitted
from loa.events import DeliveryState as S
from loa.events import topics, utcnow
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
TARGETS = (("facebook", "so-ttt-da-nang"), ("zalo", "oa-ha-noi"))


async def test_deliveries_by_approval_window_and_consumer_lag(settings: LoaSettings, db_url: str) -> None:
    await create_topics(settings, partitions=1)
    start = utcnow()
    early, late = start - timedelta(minutes=10), start + timedelta(seconds=1)
    async with running_tracker(tracker_settings(settings, db_url)) as (_, client), producer(settings) as p:
        await send(
            p,
            settings,
            topics.CONTENT,
            [approved("tin-cu", TARGETS, approved_at=early), approved("tin-moi", TARGETS, approved_at=late)],
        )
        published_at = late + timedelta(seconds=2)
        await send(
            p,
            settings,
            topics.DELIVERY,
            [
                status(cid, ch, acc, S.PUBLISHED, 2, at=published_at)
                for cid in ("tin-cu", "tin-moi")
                for ch, acc in TARGETS
            ],
        )

        async def all_published() -> bool:
            r = await client.get("/api/v1/deliveries", params={"state": "published"}, headers=auth("viewer"))
            return bool(r.json()["total"] == 4)

        await eventually(all_published, what="four published deliveries")

        window = {
            "approved_since": start.isoformat(),
            "approved_until": (late + timedelta(seconds=1)).isoformat(),
        }
        r = await client.get(
            "/api/v1/deliveries", params={**window, "page_size": 500}, headers=auth("viewer")
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 2
        assert {(d["content_id"], d["channel"]) for d in body["items"]} == {
            ("tin-moi", "facebook"),
            ("tin-moi", "zalo"),
        }
        for d in body["items"]:
            assert d["approved_at"] is not None and d["published_at"] is not None
            approval, published = (datetime.fromisoformat(d[k]) for k in ("approved_at", "published_at"))
            latency = (published - approval).total_seconds()
            assert latency == pytest.approx(2.0, abs=0.001)

        r = await client.get(
            "/api/v1/deliveries", params={"approved_until": start.isoformat()}, headers=auth("viewer")
        )
        assert {d["content_id"] for d in r.json()["items"]} == {"tin-cu"}
        r = await client.get(
            "/api/v1/deliveries", params={"approved_since": "2026-01-01T00:00:00"}, headers=auth("viewer")
        )
        assert r.status_code == 422  # a time without its zone is ambiguous
        assert r.json()["error"]["fields"][0]["field"] == "query.approved_since"

        async def caught_up() -> bool:
            text = (await client.get("/metrics")).text
            return 'loa_tracker_consumer_lag{topic="loa.delivery.v1"} 0.0' in text

        await eventually(caught_up, what="the tracker's delivery-topic lag at 0")
        text = (await client.get("/metrics")).text
        assert 'loa_tracker_consumer_lag{topic="loa.content.v1"} 0.0' in text


async def test_uncommitted_counts_from_the_committed_offset_by_topic(settings: LoaSettings) -> None:
    """One consumer reads the contents and the statuses (the tracker's): each topic's lag its own."""
    await create_topics(settings, partitions=1)
    async with producer(settings) as p:
        await send(p, settings, topics.CONTENT, [approved(f"tin-{n}") for n in range(5)])
        sent = status("tin-0", "facebook", "so-ttt-da-nang", S.PUBLISHING, 1)
        await send(p, settings, topics.DELIVERY, [sent])
    topic, statuses = settings.topic(topics.CONTENT), settings.topic(topics.DELIVERY)
    consumer = AIOKafkaConsumer(
        topic,
        statuses,
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        group_id=f"lag-{settings.topic_prefix}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=5000, max_records=3)
        assert await uncommitted(consumer, topic) == 5  # read, but nothing committed yet
        assert await uncommitted(consumer, statuses) == 1
        assert await uncommitted(consumer) == 6
        await consumer.commit({TopicPartition(topic, 0): 3})
        assert await uncommitted(consumer, topic) == 2
        assert await uncommitted(consumer, statuses) == 1
    finally:
        await consumer.stop()

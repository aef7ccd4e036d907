"""The outbox relay sends again once Kafka is back from an outage longer than a request timeout.

Found by `make drill` (docs/drills.md, `broker_outage`): after Kafka came back, the X and webhook
publishers' relays failed every round for the rest of the run — first `LeaderNotAvailableError`
(a batch that had waited through the outage expired while the restarting broker had no leader
yet), then `OutOfOrderSequenceNumber` (the idempotent producer's sequence out of step with the
broker's, for good). The tracker never heard of deliveries the platforms had long published; the
intermittent "YouTube delivery still `retrying` 120 s after Kafka came back" was the same.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from loa.events import DeliveryState, parse_delivery_status, topics, utcnow
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.relay import OutboxRelay
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.settings import LoaSettings
from loa.testing.private_stack import PrivateStack
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

REQUEST_TIMEOUT_S = 10.0
"""The relay's producer request timeout (40 s by default, as in the drill), shortened for the test."""
OUTAGE_S = REQUEST_TIMEOUT_S + 10.0
"""Longer than the producer's request timeout: the waiting batches expire."""
BACK_WITHIN_S = 30.0


async def schedule(store: JobStore, *content_ids: str) -> None:
    """One job per content, created ``scheduled``: one status event each."""
    async with store.tx() as conn:
        for cid in content_ids:
            await store.create(
                conn,
                content_id=cid,
                version=1,
                account="so-tttt-ha-noi",
                post=None,
                state=DeliveryState.SCHEDULED,
                due_at=utcnow() + timedelta(hours=1),
            )


async def test_the_relay_sends_again_after_a_broker_outage(settings: LoaSettings, tmp_path: Path) -> None:
    with PrivateStack.started(tmp_path, "kafka") as kafka:
        ps = PublisherSettings(
            kafka_bootstrap=kafka.kafka_bootstrap,
            topic_prefix=settings.topic_prefix,
            publisher_database_url=f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}",
            credentials_key=Fernet.generate_key().decode(),
            publisher_poll_seconds=0.05,
            kafka_outbox_request_timeout_seconds=REQUEST_TIMEOUT_S,
        )
        engine = make_engine(ps.job_store_url("fakechan"))
        await migrate(engine)
        store = JobStore(engine, "fakechan")
        relay = OutboxRelay(store, ps, RuntimeMetrics("fakechan"))
        running = asyncio.create_task(relay.run())
        topic = ps.topic(topics.DELIVERY)
        try:
            await schedule(store, "tb-truoc-su-co")
            assert len(await read_topic(kafka.kafka_bootstrap, topic, expect=1)) == 1

            await asyncio.to_thread(kafka.stop, "kafka")
            await schedule(store, "tb-trong-su-co-1", "tb-trong-su-co-2", "tb-trong-su-co-3")
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(kafka.start, "kafka")
            await schedule(store, "tb-sau-su-co")

            records = await read_topic(kafka.kafka_bootstrap, topic, expect=5, wait_s=BACK_WITHIN_S)
        finally:
            await relay.stop()
            await asyncio.wait_for(running, timeout=30)
            await engine.dispose()
    events = {
        (e.payload.content_id, e.payload.sequence)
        for e in map(parse_delivery_status, (r.value for r in records))
    }
    assert len(events) == 5, sorted(events)  # every event of the five jobs, repeats aside

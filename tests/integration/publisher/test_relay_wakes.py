"""On SQLite the outbox relay reads the outbox when a commit wakes it, not on a fast poll.

Its process is the store's one writer, and every transaction that writes a status event wakes it
(``JobWrites.tx``); an idle publisher's relay read the empty outbox five times a second for nothing
(issue #20, docs/benchmarks.md "Session 33"), and after a round that sent rows it read the outbox
again to find it empty ("Session 34"). What must not change: an event still reaches Kafka
at once after its commit, and a failed round is tried again after its pause.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import create_topics, publisher_settings

from loa.events import DeliveryState, parse_delivery_status, topics, utcnow
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.relay import OWN_STORE_POLL_SECONDS, OutboxRelay
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.settings import LoaSettings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

POLL_S = 0.02
"""``publisher_poll_seconds``: the rate the relay read its outbox at, idle, on SQLite too."""


async def test_an_idle_relay_on_sqlite_reads_only_when_a_commit_wakes_it(
    settings: LoaSettings, tmp_path: Path, kafka_admin: object
) -> None:
    ps = publisher_settings(
        settings, f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}", publisher_poll_seconds=POLL_S
    )
    await create_topics(kafka_admin, ps)
    engine = make_engine(ps.job_store_url("fakechan"))
    await migrate(engine)
    store = JobStore(engine, "fakechan")
    relay = OutboxRelay(store, ps, RuntimeMetrics("fakechan"))
    rounds = 0
    second = asyncio.Event()
    read = relay.relay_once

    async def counted() -> int:
        nonlocal rounds
        rounds += 1
        if rounds == 2:
            second.set()
        return await read()

    relay.relay_once = counted  # type: ignore[method-assign]
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(1.0)
        # the first read at start, then none: at the old poll it was ~1 / POLL_S = 50
        assert rounds == 1
        assert OWN_STORE_POLL_SECONDS > 1.0

        async with store.tx() as conn:
            await store.create(
                conn,
                content_id="tb-lich-tiep-cong-dan",
                version=1,
                account="so-tttt-ha-noi",
                post=None,
                state=DeliveryState.SCHEDULED,
                due_at=utcnow() + timedelta(hours=1),
            )
        # woken by the commit, not found by the next poll (OWN_STORE_POLL_SECONDS away)
        await asyncio.wait_for(second.wait(), timeout=2.0)
        records = await read_topic(settings.kafka_bootstrap, ps.topic(topics.DELIVERY), expect=1)
        states = [parse_delivery_status(r.value).payload.state for r in records]
        assert states == [DeliveryState.SCHEDULED]  # created in it: no `received` that was never stored
        # The round that sent it read all there was, and no commit woke the relay since: it does
        # not read the outbox again to find it empty (it did, a read per round under load).
        await asyncio.sleep(0.5)
        assert rounds == 2
    finally:
        await relay.stop()
        await running
        await engine.dispose()

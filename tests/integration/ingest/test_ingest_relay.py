"""Two ingest replicas on one PostgreSQL database relay the outbox together: every event reaches
Kafka once, and each content's events stay in order."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest

from loa.events import topics
from services.ingest.db import IngestDb, OutboxRow
from services.ingest.relay import OutboxRelay
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

CONTENTS = 30
EVENTS_EACH = 10


async def test_two_replicas_relay_each_event_once_in_order(stack: Stack, pg_url: str, tmp_path: Path) -> None:
    base, _ = ingest_settings(stack, tmp_path)
    settings = base.model_copy(update={"database_url": pg_url})
    topic = settings.topic(topics.CONTENT)
    replicas = [IngestDb(pg_url), IngestDb(pg_url)]
    await replicas[0].migrate()
    async with replicas[0].sessions() as session, session.begin():
        for seq in range(EVENTS_EACH):
            for n in range(CONTENTS):
                payload = json.dumps({"nội_dung": f"tin-{n}", "thứ_tự": seq}, ensure_ascii=False)
                session.add(OutboxRow(topic=topic, key=f"tin-{n}", payload=payload))
    relays = [OutboxRelay(db, settings) for db in replicas]
    running = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        async with asyncio.timeout(60):
            while await relays[0].pending():  # noqa: ASYNC110 - no event says "drained"
                await asyncio.sleep(0.2)
    finally:
        for relay in relays:
            await relay.stop()
        await asyncio.gather(*running)
        for db in replicas:
            await db.close()

    records = await read_topic(stack.kafka_bootstrap, topic, expect=CONTENTS * EVENTS_EACH, wait_s=30)
    assert len(records) == CONTENTS * EVENTS_EACH
    order: dict[bytes | None, list[int]] = defaultdict(list)
    for record in records:
        order[record.key].append(json.loads(record.value)["thứ_tự"])
    assert all(seqs == list(range(EVENTS_EACH)) for seqs in order.values()), order
    assert len(order) == CONTENTS

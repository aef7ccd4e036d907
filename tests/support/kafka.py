"""Read what is on a topic, from the beginning, with the real broker."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from loa.testing.kafka_client import client_options


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    headers: dict[str, str]


async def read_topic(bootstrap: str, topic: str, expect: int, wait_s: float = 20.0) -> list[Record]:
    """All records of ``topic`` once at least ``expect`` arrived and a poll brought nothing new
    (or ``wait_s`` passed)."""
    consumer = AIOKafkaConsumer(
        topic,
        **client_options(bootstrap),
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=500,
    )
    await consumer.start()
    records: list[Record] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for m in messages:
                    headers = {k: v.decode() for k, v in (m.headers or ())}
                    records.append(Record(m.key, m.value or b"", headers))
            if len(records) >= expect and not batch:
                break
    finally:
        await consumer.stop()
    return records

"""Produce events to a topic, and read what is on one from the beginning, with the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel

from loa.kafka_security import client_security
from loa.settings import LoaSettings
from loa.testing.kafka_client import client_options

FETCH_WAIT_MS = 100
"""Kafka's ``fetch.max.wait.ms`` of the tests' consumers, publishers and trackers. Stopping a TLS
consumer waits for the broker to read its close, which the broker does only once it has answered
the fetch in flight: with aiokafka's 500 ms (the tracker's 1 s) every stop took ~0.4-0.5 s
(``AIOKafkaClient.close``, measured; docs/testing.md)."""
BROKER_MESSAGE_MAX_BYTES = 1_048_588
"""Kafka's default ``message.max.bytes`` (https://kafka.apache.org/documentation/#brokerconfigs_message.max.bytes),
which deploy/local/kafka.sh keeps."""


@asynccontextmanager
async def started_producer(settings: LoaSettings, **options: Any) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer on the broker of ``settings``, signed in as they say, ``acks=all``;
    ``options`` are aiokafka's (opening one costs a TLS and SASL handshake: a test timing a stream
    sends it through one)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, **client_security(settings), acks="all", **options
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def produce(
    producer: AIOKafkaProducer,
    settings: LoaSettings,
    topic: str,
    events: Iterable[BaseModel],
    key: Callable[[Any], str],
) -> None:
    """Each event's JSON on ``settings.topic(topic)`` under ``key(event)``, every send acknowledged."""
    futures = [
        await producer.send(settings.topic(topic), e.model_dump_json().encode(), key=key(e).encode())
        for e in events
    ]
    await asyncio.gather(*futures)


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

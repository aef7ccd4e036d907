"""Property: every event survives serialise → Kafka (the real broker, a unique topic) → parse unchanged."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loa.events import parse_command, parse_content_event, parse_delivery_status
from loa.testing.kafka_client import client_options
from tests.conftest import Stack
from tests.support.strategies import commands, content_events, deliveries

pytestmark = pytest.mark.integration
T = TypeVar("T")


class KafkaEcho:
    """A producer (acks=all, idempotent) and a consumer of one single-partition topic, on their own loop."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.bootstrap = bootstrap
        self.run(self._start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _start(self) -> None:
        # aiokafka clients belong to the loop they are made on: make them on this thread's loop
        self.producer = AIOKafkaProducer(
            **client_options(self.bootstrap), acks="all", enable_idempotence=True
        )
        self.consumer = AIOKafkaConsumer(**client_options(self.bootstrap), enable_auto_commit=False)
        await self.producer.start()
        await self.consumer.start()
        await self.producer.send_and_wait(self.topic, b"warm-up")  # creates the topic
        partition = TopicPartition(self.topic, 0)
        self.consumer.assign([partition])
        await self.consumer.seek_to_end(partition)

    async def _echo(self, key: bytes, value: bytes) -> bytes:
        await self.producer.send_and_wait(self.topic, value, key=key, partition=0)
        while True:
            record = await self.consumer.getone()
            if record.key == key:
                return record.value or b""

    def echo(self, key: bytes, value: bytes) -> bytes:
        return self.run(self._echo(key, value))

    def close(self) -> None:
        async def stop() -> None:
            await self.consumer.stop()
            await self.producer.stop()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def echo(stack: Stack) -> Iterator[KafkaEcho]:
    import uuid

    kafka = KafkaEcho(stack.kafka_bootstrap, f"t-{uuid.uuid4().hex[:8]}.roundtrip")
    yield kafka
    kafka.close()


PARSERS = {"content": parse_content_event, "delivery": parse_delivery_status, "command": parse_command}
any_event = st.one_of(
    content_events.map(lambda e: ("content", e)),
    deliveries().map(lambda e: ("delivery", e)),
    commands().map(lambda e: ("command", e)),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(any_event)
def test_every_event_survives_kafka(echo: KafkaEcho, kind_and_event: tuple[str, Any]) -> None:
    kind, event = kind_and_event
    raw = event.model_dump_json().encode()
    received = echo.echo(str(event.event_id).encode(), raw)
    assert received == raw
    assert PARSERS[kind](received) == event

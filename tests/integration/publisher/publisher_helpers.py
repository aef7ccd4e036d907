"""Helpers of the runtime's integration tests: Vietnamese contents, Kafka in and out, a status watcher."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from loa.events import (
    CancelDelivery,
    Content,
    ContentApproved,
    ContentRetracted,
    ContentUpdated,
    Delivery,
    DeliveryRef,
    DeliveryState,
    DeliveryStatus,
    Envelope,
    Priority,
    Retraction,
    RetryDelivery,
    Target,
    parse_delivery_event,
    topics,
    utcnow,
)
from loa.kafka_security import client_security
from loa.settings import LoaSettings
from tests.support.kafka import FETCH_WAIT_MS, produce, started_producer

CHANNEL = "fakechan"
SUMMARY = (
    "Bộ Thông tin và Truyền thông thông báo lịch tiếp công dân định kỳ tháng này tại trụ sở Đà Nẵng; "
    "người dân có thể đăng ký trước qua cổng dịch vụ công."
)


def content(
    cid: str,
    version: int = 1,
    *,
    accounts: Iterable[str] = ("chinh",),
    title: str = "Thông báo lịch tiếp công dân",
    publish_at: datetime | None = None,
    text: str | None = None,
    priority: Priority = Priority.NORMAL,
) -> Content:
    return Content(
        id=cid,
        version=version,
        title=title,
        summary=SUMMARY,
        body="<p>Đường dây nóng: 1900 1234.</p>",
        unit="Văn phòng Bộ",
        approved_by="Nguyễn Thị Đào",
        approved_at=utcnow(),
        targets=[Target(channel=CHANNEL, account=a, text=text) for a in accounts]
        + [Target(channel="website", account="main")],
        publish_at=publish_at,
        priority=priority,
    )


def approved(c: Content) -> ContentApproved:
    return ContentApproved(payload=c)


def updated(c: Content) -> ContentUpdated:
    return ContentUpdated(payload=c)


def retracted(cid: str) -> ContentRetracted:
    return ContentRetracted(payload=Retraction(id=cid, reason="Sai số liệu", requested_by="Trần Văn Đức"))


def retry(cid: str, account: str = "chinh") -> RetryDelivery:
    return RetryDelivery(
        payload=DeliveryRef(content_id=cid, channel=CHANNEL, account=account, requested_by="ops")
    )


def cancel(cid: str, account: str = "chinh") -> CancelDelivery:
    return CancelDelivery(
        payload=DeliveryRef(content_id=cid, channel=CHANNEL, account=account, requested_by="ops")
    )


def producer_for(settings: LoaSettings) -> AbstractAsyncContextManager[AIOKafkaProducer]:
    """A started producer as the content systems' (idempotent, acks=all)."""
    return started_producer(settings, enable_idempotence=True)


async def send(
    settings: LoaSettings,
    topic: str,
    events: Iterable[Envelope],
    key: Callable[[Envelope], str],
    producer: AIOKafkaProducer | None = None,
) -> None:
    if producer is not None:
        await produce(producer, settings, topic, events, key)
        return
    async with producer_for(settings) as opened:
        await produce(opened, settings, topic, events, key)


async def send_content(
    settings: LoaSettings, *events: Envelope, producer: AIOKafkaProducer | None = None
) -> None:
    await send(settings, topics.CONTENT, events, key=lambda e: e.payload.id, producer=producer)  # type: ignore[attr-defined]


async def send_command(settings: LoaSettings, *events: Envelope) -> None:
    await send(settings, topics.COMMANDS, events, key=lambda e: e.payload.content_id)  # type: ignore[attr-defined]


class Watcher:
    """Reads the delivery topic from the start; ``history[delivery_id]`` lists events as they came."""

    def __init__(self, settings: LoaSettings) -> None:
        self.consumer = AIOKafkaConsumer(
            settings.topic(topics.DELIVERY),
            bootstrap_servers=settings.kafka_bootstrap,
            **client_security(settings),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=FETCH_WAIT_MS,
        )
        self.history: dict[str, list[Delivery]] = defaultdict(list)
        self.keys: dict[str, set[str]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Watcher:
        await self.consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for record in self.consumer:
            event = parse_delivery_event(record.value)
            if not isinstance(event, DeliveryStatus):  # a comment.action outcome: no delivery's state
                continue
            self.history[event.payload.delivery_id].append(event.payload)
            self.keys[event.payload.delivery_id].add(record.key.decode())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    def last(self, did: str) -> Delivery | None:
        events = self.history.get(did)
        return max(events, key=lambda d: d.sequence) if events else None

    def states(self, did: str) -> list[DeliveryState]:
        """States in sequence order, repeats (at-least-once) dropped."""
        by_seq = {d.sequence: d.state for d in self.history.get(did, [])}
        return [by_seq[s] for s in sorted(by_seq)]

    async def until(self, predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.05)

    async def until_state(self, did: str, state: DeliveryState, timeout: float = 30.0) -> Delivery:  # noqa: ASYNC109
        """Until the delivery's *last* event is ``state``: for a state it stays in. A state it only
        passes through (``publishing`` lasts milliseconds against the emulators; a natively
        scheduled post's first ``scheduled``) may come and go between two reads: ``until_path``."""

        def reached() -> bool:
            last = self.last(did)
            return last is not None and last.state is state

        await self.until(reached, timeout, what=f"{did} → {state} (seen {self.states(did)})")
        last = self.last(did)
        assert last is not None
        return last

    async def until_path(
        self,
        did: str,
        path: Sequence[DeliveryState],
        *,
        after: int = 0,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Delivery:
        """Until the delivery went through ``path`` after its event numbered ``after`` and rests at
        the path's last state (``went_through``); its last event."""
        reached: list[Delivery] = []

        def done() -> bool:
            found = went_through(self.history.get(did, []), path, after=after)
            reached[:] = [found] if found is not None else []
            return found is not None

        await self.until(done, timeout, what=f"{did} → {' → '.join(path)} after event {after}")
        return reached[0]


def went_through(
    events: Iterable[Delivery], path: Sequence[DeliveryState], *, after: int = 0
) -> Delivery | None:
    """The last event if, after the event numbered ``after``, the delivery passed through the
    states of ``path`` in this order and rests at its last one; None otherwise.

    Every event counts, in sequence order (repeats dropped), not only the one seen last: the
    relay may send ``publishing`` and the ``scheduled`` that follows it within milliseconds, and
    a reader sees both in one fetch (``Watcher.until_state`` waiting for ``publishing`` then
    never sees it as the last, and times out)."""
    by_seq = {d.sequence: d for d in events if d.sequence > after}
    if not by_seq or not path:
        return None
    ordered = [by_seq[s] for s in sorted(by_seq)]
    if ordered[-1].state is not path[-1]:
        return None
    states = iter(d.state for d in ordered)
    return ordered[-1] if all(state in states for state in path) else None


def did(cid: str, account: str = "chinh") -> str:
    return f"{cid}:{CHANNEL}:{account}"

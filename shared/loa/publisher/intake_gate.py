"""Bounded intake (issue #20): a publisher takes from Kafka only what it can do soon.

Above ``publisher_intake_backlog`` jobs due and not yet started, the gate closes: normal contents
wait in Kafka (the offsets are not committed past them; nothing of theirs is rendered, stored or
announced), while intake goes on reading ahead for what jumps the queue — urgent contents and
retractions (``intake.jumps_ahead``), which are taken in at once, so the urgent lane holds in an
overload too. Once the backlog is down to half the limit, each partition is sought back to the
first record left waiting and intake goes on from there; what was taken in ahead comes again and
is known (a redelivery, ignored).

Order per content is kept: an event of a content with an earlier event still waiting in Kafka waits
too (a retraction never overtakes the approval it retracts). Reading ahead remembers the ids of the
contents left waiting, up to ``LOOK_AHEAD_MAX``; past that the consumer waits for the gate to open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from loa.events import Content, Retraction
from loa.events.parsing import parse_content_record
from loa.publisher.intake import jumps_ahead
from loa.publisher.metrics import RuntimeMetrics

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.5
"""How often the due backlog is counted, at most (one ``count`` over the due jobs' index)."""
LOOK_AHEAD_MAX = 100_000
"""Contents left waiting whose ids reading ahead remembers; past that it stops reading."""
STALL_WAIT_SECONDS = 30.0
"""How long a handler past ``LOOK_AHEAD_MAX`` waits for the gate to open before it returns (well
under aiokafka's ``max_poll_interval_ms``, 300 s, after which the consumer would leave its group)."""


class IntakeGate:
    """Whether intake takes everything or only what jumps the queue, and where the rest waits."""

    def __init__(
        self,
        limit: int,
        count_due: Callable[[], Awaitable[int]],
        consumer: Callable[[], Any],
        metrics: RuntimeMetrics,
    ) -> None:
        self.limit = limit
        self._count_due = count_due
        self._consumer = consumer
        self._metrics = metrics
        self.lock = asyncio.Lock()
        """Held while a batch is handled and while the gate opens: a seek never races a batch."""
        self.waiting: dict[TopicPartition, int] = {}
        """Per partition, the offset of the first record left in Kafka while the gate is closed."""
        self._waiting_ids: set[str] = set()
        self._opened = asyncio.Event()
        self._opened.set()
        self._checked = 0.0

    @property
    def closed(self) -> bool:
        return not self._opened.is_set()

    async def check(self) -> None:
        """After a batch taken in: close the gate if the due backlog is over the limit."""
        now = time.monotonic()
        if self.closed or now - self._checked < CHECK_SECONDS:
            return
        self._checked = now
        due = await self._count_due()
        self._metrics.due_backlog.set(due)
        if due > self.limit:
            self._opened.clear()
            self._metrics.intake_waiting.set(1)
            log.info("intake waits: %d jobs due (limit %d); new contents wait in Kafka", due, self.limit)

    def look_ahead(self, records: Sequence[ConsumerRecord[Any, Any]]) -> list[Content | Retraction]:
        """While closed: what of ``records`` to take in now (what jumps the queue, in order); the
        partition and offset of the first of the others is remembered, and their contents' ids."""
        taken: list[Content | Retraction] = []
        for record in records:
            try:
                change = parse_content_record(record).payload
            except ValueError:  # refused: read again, and skipped then, once the gate opens
                change = None
            if change is not None and jumps_ahead(change) and change.id not in self._waiting_ids:
                taken.append(change)
                continue
            self._leave(record, change)
        return taken

    def leave_waiting(
        self, records: Sequence[ConsumerRecord[Any, Any]], taken: Sequence[Content | Retraction]
    ) -> None:
        """What ``look_ahead`` took from ``records`` could not be taken in: all of ``records`` comes
        again on opening (the others' contents are already waiting; ``taken``'s join them)."""
        for record in records:
            self._leave(record, None)
        self._waiting_ids.update(change.id for change in taken)

    def _leave(self, record: ConsumerRecord[Any, Any], change: Content | Retraction | None) -> None:
        """``record`` stays in Kafka: its partition resumes from it at the latest, and no later event
        of its content (``change``; None: refused) overtakes it."""
        self.waiting.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        if change is not None:
            self._waiting_ids.add(change.id)

    async def stall_if_full(self) -> None:
        """Past ``LOOK_AHEAD_MAX`` contents left waiting: stop reading for a while."""
        if len(self._waiting_ids) >= LOOK_AHEAD_MAX:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._opened.wait(), STALL_WAIT_SECONDS)

    async def run(self) -> None:
        """While closed: count the backlog every ``CHECK_SECONDS``; at half the limit, open."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if not self.closed:
                continue
            try:
                due = await self._count_due()
            except Exception:
                log.debug("counting the due backlog failed", exc_info=True)
                continue
            self._metrics.due_backlog.set(due)
            if due <= self.limit // 2:
                async with self.lock:
                    self._open()
                log.info("intake goes on: %d jobs due", due)

    def _open(self) -> None:
        """Seek each partition still ours back to its first record left waiting, then open."""
        consumer = self._consumer()
        assigned = consumer.assignment() if consumer is not None else set()
        for tp, offset in self.waiting.items():
            if tp in assigned:  # one given to another member reads from the committed offset
                consumer.seek(tp, offset)
        self.waiting.clear()
        self._waiting_ids.clear()
        self._metrics.intake_waiting.set(0)
        self._opened.set()

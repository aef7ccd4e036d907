"""The outbox relay: status events leave the job store for ``loa.delivery.v1`` in order, none lost
(and what each attempt sent, for ``loa.payload.v1``: a row names its topic when it is not the first).

At least once: rows are marked sent only after Kafka acknowledged them (acks=all, idempotent
producer), so a crash in between sends them again; the tracker drops repeats by sequence. A failed
round gets a new producer (``loa.kafka.RenewedProducer``): aiokafka's may never send again after a
broker outage.
On PostgreSQL an advisory lock lets one replica relay at a time, which keeps the order.

Sent rows are kept ``SENT_KEPT`` (an hour: what was just relayed can still be read in the store
after an incident), then deleted by the relay, at most once every ``PRUNE_EVERY_SECONDS``: until
session 46 nothing deleted them, and every delivery left ~5 kB behind for ever (its status events
and the payload it sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text, update

from loa.db import is_sqlite
from loa.events import topics, utcnow
from loa.kafka import OutboxRecord, RenewedProducer
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import outbox

log = logging.getLogger(__name__)

BATCH = 500
OWN_STORE_POLL_SECONDS = 5.0
"""On SQLite the relay's process is the store's one writer and every commit that writes the outbox
wakes the relay (``JobWrites.tx``): the poll only backs that up. At ``publisher_poll_seconds`` (0.2)
it read the empty outbox five times a second, ~4 ms of an idle publisher's CPU a second (issue #20,
docs/benchmarks.md "Session 33"). On PostgreSQL the relay also sends what other replicas wrote,
which wakes nothing here: it polls at ``publisher_poll_seconds``."""

# Built once (a relay round runs every ~100 ms under load), executed with their values bound.
_UNSENT = (
    select(outbox.c.id, outbox.c.key, outbox.c.payload, outbox.c.topic)
    .where(outbox.c.sent_at.is_(None))
    .order_by(outbox.c.id)
    .limit(BATCH)
)
_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("b_sent_at"))
)
_PENDING = select(func.count()).where(outbox.c.sent_at.is_(None))
SENT_KEPT = timedelta(hours=1)
PRUNE_EVERY_SECONDS = 60.0
PRUNE_CHUNK = 5000
"""Rows deleted per statement: a store that kept every row before session 46 is emptied in chunks
that hold the write lock (SQLite's, one replica's rows on PostgreSQL) briefly each."""
_SENT_BEFORE = (
    select(outbox.c.id)
    .where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < bindparam("before"))
    .order_by(outbox.c.id)
    .limit(PRUNE_CHUNK)
)


def _lock_key(channel: str) -> int:
    digest = hashlib.sha256(f"loa-outbox-{channel}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class OutboxRelay:
    def __init__(self, store: JobStore, settings: PublisherSettings, metrics: RuntimeMetrics) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.topics = {None: settings.topic(topics.DELIVERY), topics.PAYLOAD: settings.topic(topics.PAYLOAD)}
        """A row's ``topic`` (None: ``loa.delivery.v1``) → the topic it is sent to, prefixed."""
        self.wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._pruned_at = 0.0  # monotonic; the first round prunes what an earlier run left
        store.on_emitted = self.wake.set
        self.producer = RenewedProducer(
            settings,
            client_id=f"loa-publisher-{store.channel}-outbox",
        )

    async def run(self) -> None:
        try:
            if is_sqlite(self.store.engine):
                await self._relay_loop(OWN_STORE_POLL_SECONDS, sole_writer=True)
            else:
                await self._relay_with_lock()
        finally:
            await self.producer.drop()

    async def stop(self) -> None:
        self._stopping.set()
        self.wake.set()

    async def _relay_with_lock(self) -> None:
        key = _lock_key(self.store.channel)
        async with self.store.engine.connect() as lock_conn:
            while not self._stopping.is_set():
                got = (
                    await lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
                ).scalar_one()
                await lock_conn.commit()
                if got:
                    try:
                        await self._relay_loop(self.settings.publisher_poll_seconds, sole_writer=False)
                    finally:
                        await lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        await lock_conn.commit()
                    return
                await self._sleep(2.0)

    async def _relay_loop(self, poll_seconds: float, *, sole_writer: bool) -> None:
        """Relay rounds until stopped. With ``sole_writer`` (SQLite: every commit that writes the
        outbox is this process's, and wakes the relay) a round that sent less than a batch and was
        not woken meanwhile has left the outbox empty: no read to find that out."""
        while True:
            self.wake.clear()  # before reading: a commit after the read wakes the sleep below
            try:
                sent = await self.relay_once()
            except Exception:
                log.exception("relaying status events failed; trying again with a new producer")
                await self.producer.drop()
                await self._sleep(1.0)
                if self._stopping.is_set():
                    return
                continue  # again after the pause, not after a poll
            if time.monotonic() - self._pruned_at >= PRUNE_EVERY_SECONDS:
                await self._prune_logged()
            if sent and (sent == BATCH or not sole_writer or self.wake.is_set()):
                continue  # more may be waiting: read again at once
            if self._stopping.is_set():
                return  # drained
            woken = await self._sleep(poll_seconds, clear=False)
            if woken and not self._stopping.is_set():
                await self._linger()

    async def _linger(self) -> None:
        """After a wake-up, let other commits add their rows before reading the outbox
        (``LOA_PUBLISHER_RELAY_LINGER_MS``): each round is a read, a Kafka produce and a write of its
        own, so at 30 deliveries a second a 10 ms linger made ~3 rounds per delivery
        (docs/benchmarks.md, "The webhook publisher alone")."""
        if self.settings.publisher_relay_linger_ms:
            await asyncio.sleep(self.settings.publisher_relay_linger_ms / 1000)

    async def _sleep(self, seconds: float, *, clear: bool = True) -> bool:
        """Sleep ``seconds`` or until woken (True)."""
        if clear:
            self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)
            return True
        return False

    async def _prune_logged(self) -> None:
        self._pruned_at = time.monotonic()
        try:
            await self.prune(utcnow() - SENT_KEPT)
        except Exception:  # the store busy or down: relaying goes on, the next prune tries again
            log.exception("pruning the outbox's sent rows failed")

    async def prune(self, before: datetime) -> int:
        """Delete the rows sent before ``before``, a chunk a transaction; returns how many."""
        deleted = 0
        while True:
            async with self.store.tx() as conn:
                ids = (await conn.execute(_SENT_BEFORE, {"before": before})).scalars().all()
                if ids:
                    await conn.execute(delete(outbox).where(outbox.c.id.in_(ids)))
            deleted += len(ids)
            if len(ids) < PRUNE_CHUNK:
                return deleted
            await asyncio.sleep(0)  # let the publisher's other transactions in between chunks

    def _too_large(self, row: Any, error: Exception) -> None:
        """A row Kafka refuses as too large is skipped, loudly, so it cannot hold back every row
        after it. Only a payload can be (a rendered post near the limit of its content event,
        ``max_event_bytes``): the archive then lacks it and ``loa archive verify`` names it."""
        self.metrics.outbox_too_large.inc()
        log.error(
            "outbox row %d (%s, %d bytes) refused by Kafka as too large, not sent: %s; raise "
            "LOA_KAFKA_MAX_MESSAGE_BYTES with the broker's message.max.bytes",
            row.id,
            row.topic or topics.DELIVERY,
            len(row.payload.encode()),
            type(error).__name__,
        )

    async def relay_once(self) -> int:
        """Send the oldest unsent rows, in order, then mark them sent; returns how many."""
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(_UNSENT)).all()
            await conn.rollback()
        if not rows:
            self.metrics.outbox_pending.set(0)
            return 0
        records = [OutboxRecord(self.topics[r.topic], r.key.encode(), r.payload.encode()) for r in rows]
        sent = await self.producer.send_in_order(records)
        for i, refusal in sent.refused.items():
            self._too_large(rows[i], refusal)
        async with self.store.tx() as conn:
            await conn.execute(
                _MARK_SENT, {"ids": [r.id for r in rows[: sent.settled]], "b_sent_at": utcnow()}
            )
        if sent.settled < len(rows):
            self.wake.set()  # cut short: the rest go at once, with a new producer
            return sent.settled
        if len(rows) == BATCH:
            async with self.store.engine.connect() as conn:
                pending = (await conn.execute(_PENDING)).scalar_one()
                await conn.rollback()
            self.metrics.outbox_pending.set(pending)
        else:
            self.metrics.outbox_pending.set(0)
        return len(rows)

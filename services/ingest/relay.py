"""The ingest's outbox relay: accepted events leave the database for Kafka, in order, none lost.

A request is answered once its event is committed in ``ingest_outbox`` with the content row, so
an answer never waits for Kafka. The relay sends the unsent rows in id order (key = content id,
so one content's events stay in order on one partition) with an idempotent ``acks=all``
producer and marks them sent after Kafka acknowledged them. While Kafka is down it retries
with a capped backoff; a crash between the acknowledgement and the mark sends a row again (at
least once: every consumer keys its work on the event's content id and version).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from sqlalchemy import func, select, text, update

from loa.events import utcnow
from loa.kafka import OutboxRecord, RenewedProducer
from services.ingest.db import IngestDb, OutboxRow
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)

BATCH = 200
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)
"""Waits after a failed round (the last repeats): a restarted broker is used within 5 s."""
IDLE_POLL_SECONDS = 5.0
"""Rows committed by another replica are seen at least this often."""
REQUEST_TIMEOUT_MS = 10_000
HEADERS = [("content-type", b"application/json")]
RELAY_LOCK = int.from_bytes(hashlib.sha256(b"loa-ingest-outbox").digest()[:8], "big", signed=True)
"""The PostgreSQL advisory lock key of the ingest's relay (one relay at a time across replicas)."""


class OutboxRelay:
    def __init__(self, db: IngestDb, settings: IngestSettings) -> None:
        self.db = db
        self.settings = settings
        self.wake = asyncio.Event()
        self._producer = RenewedProducer(
            settings,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            client_id="loa-ingest-outbox",
        )
        self._stopping = False

    async def run(self) -> None:
        failures = 0
        try:
            while not self._stopping:
                self.wake.clear()
                try:
                    sent = await self.relay_once()
                    failures = 0
                except Exception as e:
                    delay = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
                    failures += 1
                    log.warning("relaying the outbox failed (%s); again in %g s", type(e).__name__, delay)
                    await self._producer.drop()
                    await self._sleep(delay)
                    continue
                if not sent:
                    await self._sleep(IDLE_POLL_SECONDS)
        finally:
            await self._producer.drop()

    async def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def pending(self) -> int:
        async with self.db.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
        return int(count or 0)

    async def relay_once(self) -> int:
        """Send the oldest unsent rows in order, then mark them sent; returns how many.

        One transaction from the read to the mark; on PostgreSQL it first takes a transaction-level
        advisory lock, so replicas relay one at a time and never send the same rows twice. (On
        SQLite, pysqlite emits BEGIN only at the first write, so the read holds no lock while Kafka
        is slow: requests keep committing. See SQLAlchemy's SQLite dialect docs, "Serializable
        isolation / Savepoints / Transactional DDL".)
        """
        async with self.db.sessions() as session, session.begin():
            if self.db.engine.dialect.name == "postgresql":
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RELAY_LOCK})
            rows = (
                await session.execute(
                    select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.payload)
                    .where(OutboxRow.sent_at.is_(None))
                    .order_by(OutboxRow.id)
                    .limit(BATCH)
                )
            ).all()
            if not rows:
                return 0
            records = [OutboxRecord(r.topic, r.key.encode(), r.payload.encode(), HEADERS) for r in rows]
            sent = await self._producer.send_in_order(records)  # nothing settled raises: nothing is marked
            now = utcnow()
            for i, row in enumerate(rows[: sent.settled]):
                refusal = sent.refused.get(i)
                refused = f"Kafka refused it as too large: {refusal}" if refusal is not None else None
                if refused:  # the broker's message.max.bytes is below LOA_KAFKA_MAX_MESSAGE_BYTES
                    log.error(
                        "outbox row %d %s; set the two limits alike",
                        row.id,
                        refused,
                        extra={"content_id": row.key},
                    )
                values = {"sent_at": now, "refused": refused}
                await session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(**values))
        log.info("relayed %d event(s) to Kafka", sent.settled)
        return sent.settled

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)

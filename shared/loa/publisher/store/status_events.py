"""Status events: each state change's ``delivery.status``, numbered in its delivery's sequence and
written to the outbox in the change's own transaction (the relay publishes them).

An attempt's start (``publishing``) also writes what it is about to send, for ``loa.payload.v1``
(the archiver stores it as ``payloads/<sha256>.json``): in the same transaction as the event that
names it, so it is kept if and only if that event is, whatever crashes after the commit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.archive.payload import sent_payload
from loa.archive.records import sha256_hex
from loa.db import dialect_insert, is_sqlite
from loa.events import Delivery, DeliveryState, DeliveryStatus, topics, utcnow
from loa.publisher.job import Job
from loa.publisher.store.rows import NOTE_MAX
from loa.publisher.store.schema import outbox, sequences


@cache
def _advance(sqlite: bool) -> Any:
    """Move each delivery's sequence on by its ``last`` events in one statement, creating it at
    ``last`` if new, and return where each now stands: built once per dialect, executed with a list
    of parameter sets (one multi-row ``INSERT … ON CONFLICT DO UPDATE … RETURNING``).

    The rows are locked as they are upserted (PostgreSQL; SQLite holds the write lock), in the
    order of the parameter sets: ``emit_many`` sorts them, as two transactions' locks must be."""
    stmt = dialect_insert(sqlite, sequences)
    return stmt.on_conflict_do_update(
        index_elements=["delivery_id"], set_={"last": sequences.c.last + stmt.excluded.last}
    ).returning(sequences.c.delivery_id, sequences.c.last)


class StatusEvents:
    """Writes the status events of one channel's jobs; ``written`` counts the writes (the store's
    transactions compare it to wake the relay after a commit that wrote some)."""

    def __init__(self, engine: AsyncEngine, producer: str) -> None:
        self.engine = engine
        self.producer = producer
        self.written = 0

    def _rows(self, job: Job, sequence: int, now: datetime) -> list[dict[str, Any]]:
        """The outbox row of the job's status event (validated once, serialised once) and, when it
        starts an attempt, the row of what the attempt sends, keyed by its SHA-256."""
        sent = sent_payload(job.post) if job.post and job.attempt else None
        sha = sha256_hex(sent) if sent is not None else None
        event = DeliveryStatus(
            producer=self.producer,
            occurred_at=now,
            payload=Delivery(
                content_id=job.content_id,
                version=job.version,
                channel=job.channel,
                account=job.account,
                state=job.state,
                attempt=job.attempt,
                sequence=sequence,
                due_at=job.due_at,
                external_id=job.result.external_id[:500] if job.result else None,
                public_url=job.result.url if job.result else None,  # checked by PublishResult (web_link)
                error=job.error,
                note=job.note[:NOTE_MAX] if job.note else None,
                target_host=job.target_host,
                recipients=job.result.recipients if job.result else None,
                payload_sha256=sha,
            ),
        )
        rows = [{"key": job.content_id, "payload": event.model_dump_json(), "created_at": now, "topic": None}]
        if sent is not None and job.state is DeliveryState.PUBLISHING:
            rows.append({"key": sha, "payload": sent.decode(), "created_at": now, "topic": topics.PAYLOAD})
        return rows

    async def emit(self, conn: AsyncConnection, job: Job) -> None:
        """Write the job's status event to the outbox, numbered in its delivery's sequence."""
        await self.emit_many(conn, [job])

    async def emit_other(self, conn: AsyncConnection, key: str, payload: str) -> None:
        """Write another event of the delivery topic (e.g. ``comment.action``) to the same outbox."""
        self.written += 1
        await conn.execute(insert(outbox).values(key=key, payload=payload, created_at=utcnow()))

    async def emit_many(self, conn: AsyncConnection, changed: Sequence[Job]) -> None:
        """``emit`` for many jobs with two statements, whatever their number: the sequences moved
        on and read back in one, the events inserted in the other.

        A delivery with k events here takes the k numbers after its last; its sequence row is
        locked by the upsert (PostgreSQL; SQLite holds the write lock), so no concurrent
        transaction can hand out the same numbers.
        """
        if not changed:
            return
        self.written += 1
        counts = Counter(job.delivery_id for job in changed)
        params = [{"delivery_id": did, "last": counts[did]} for did in sorted(counts)]
        advanced = await conn.execute(_advance(is_sqlite(self.engine)), params)
        # each delivery's first number here: its last now, less the events it takes here
        number = {row.delivery_id: int(row.last) - counts[row.delivery_id] + 1 for row in advanced}
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for job in changed:
            rows += self._rows(job, number[job.delivery_id], now)
            number[job.delivery_id] += 1
        await conn.execute(insert(outbox), rows)

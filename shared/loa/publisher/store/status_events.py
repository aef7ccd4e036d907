"""Status events: each state change's ``delivery.status``, numbered in its delivery's sequence and
written to the outbox in the change's own transaction (the relay publishes them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.archive.payload import payload_sha256
from loa.db import is_sqlite, upsert
from loa.events import Delivery, DeliveryStatus, utcnow
from loa.publisher.job import Job
from loa.publisher.store.rows import NOTE_MAX
from loa.publisher.store.schema import outbox, sequences

# Built once: executed with a list of parameter sets (executemany), compiled once and cached.
_SET_SEQUENCE = (
    update(sequences)
    .where(sequences.c.delivery_id == bindparam("b_delivery_id"))
    .values(last=bindparam("b_last"))
)
_LAST = select(sequences.c.delivery_id, sequences.c.last).where(
    sequences.c.delivery_id.in_(bindparam("dids", expanding=True))
)
_LAST_LOCKED = _LAST.order_by(sequences.c.delivery_id).with_for_update()  # PostgreSQL: in order


class StatusEvents:
    """Writes the status events of one channel's jobs; ``written`` counts the writes (the store's
    transactions compare it to wake the relay after a commit that wrote some)."""

    def __init__(self, engine: AsyncEngine, producer: str) -> None:
        self.engine = engine
        self.producer = producer
        self._insert = partial(upsert, engine)
        self.written = 0

    async def _next_sequence(self, conn: AsyncConnection, did: str) -> int:
        stmt = (
            self._insert(sequences)
            .values(delivery_id=did, last=1)
            .on_conflict_do_update(index_elements=["delivery_id"], set_={"last": sequences.c.last + 1})
            .returning(sequences.c.last)
        )
        return int((await conn.execute(stmt)).scalar_one())

    def _status_row(self, job: Job, sequence: int, now: datetime) -> dict[str, Any]:
        """The outbox row of the job's status event (validated once, serialised once)."""
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
                payload_sha256=payload_sha256(job.post) if job.post and job.attempt else None,
            ),
        )
        return {"key": job.content_id, "payload": event.model_dump_json(), "created_at": now}

    async def emit(self, conn: AsyncConnection, job: Job) -> None:
        """Write the job's status event to the outbox, numbered in its delivery's sequence."""
        self.written += 1
        sequence = await self._next_sequence(conn, job.delivery_id)
        await conn.execute(insert(outbox).values(**self._status_row(job, sequence, utcnow())))

    async def emit_other(self, conn: AsyncConnection, key: str, payload: str) -> None:
        """Write another event of the delivery topic (e.g. ``comment.action``) to the same outbox."""
        self.written += 1
        await conn.execute(insert(outbox).values(key=key, payload=payload, created_at=utcnow()))

    async def emit_many(self, conn: AsyncConnection, changed: Sequence[Job]) -> None:
        """``emit`` for many jobs with a handful of statements, whatever their number.

        The sequence rows are read under a row lock (PostgreSQL; SQLite holds the write lock),
        so no concurrent transaction can hand out the same number.
        """
        if not changed:
            return
        self.written += 1
        dids = sorted({j.delivery_id for j in changed})
        stmt = _LAST if is_sqlite(self.engine) else _LAST_LOCKED
        last: dict[str, int] = {
            r.delivery_id: int(r.last) for r in (await conn.execute(stmt, {"dids": dids}))
        }
        known = set(last)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for job in changed:
            number = last.get(job.delivery_id, 0) + 1
            last[job.delivery_id] = number
            rows.append(self._status_row(job, number, now))
        fresh = [{"delivery_id": d, "last": n} for d, n in last.items() if d not in known]
        if fresh:  # every job emitted `received` when created, so this is only a safety net
            await conn.execute(insert(sequences), fresh)
        moved = [{"b_delivery_id": d, "b_last": n} for d, n in last.items() if d in known]
        if moved:
            await conn.execute(_SET_SEQUENCE, moved)
        await conn.execute(insert(outbox), rows)

"""Creating and changing jobs: each change writes the job row and its status event in one transaction.

Which changes are legal, and what a change sets, is ``loa.publisher.lifecycle``'s; this writes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any, Unpack

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.channels import Post
from loa.db import is_sqlite, upsert
from loa.events import DeliveryError, utcnow
from loa.publisher.job import Job, LostJobError, NewJob
from loa.publisher.lifecycle import Changes, Move, S, changed, check, moved
from loa.publisher.store import codec
from loa.publisher.store.reads import JobReads
from loa.publisher.store.rows import WITHOUT_POST, job_from_row, mutable_columns
from loa.publisher.store.schema import jobs
from loa.publisher.store.status_events import StatusEvents

_MUTABLE = (
    "operation", "state", "due_at", "attempt", "attempt_floor", "result", "native", "error", "note",
    "retract_requested", "parked_version", "lease_owner", "lease_expires_at", "held_at", "updated_at",
)  # fmt: skip
# Built once: executed with a list of parameter sets (executemany), compiled once and cached.
_UPDATE_JOB = (
    update(jobs)
    .where(jobs.c.id == bindparam("b_id"), jobs.c.state == bindparam("b_old_state"))
    .values({name: bindparam(f"b_{name}") for name in _MUTABLE})
)

# Read without the post (it does not change in a transition): no JSON parsed again per job.
_CURRENT = select(*WITHOUT_POST).where(jobs.c.id.in_(bindparam("ids", expanding=True)))
_CURRENT_LOCKED = _CURRENT.order_by(jobs.c.id).with_for_update()  # PostgreSQL: in id order


class JobWrites(JobReads):
    """The reads, and the writes that create jobs and change them."""

    def __init__(self, engine: AsyncEngine, channel: str) -> None:
        super().__init__(engine, channel)
        self.events = StatusEvents(engine, producer=f"loa-publisher-{channel}")
        self._insert = partial(upsert, engine)
        self.on_emitted: Callable[[], None] = lambda: None
        """Called after a transaction that wrote status events committed (the relay's wake-up)."""

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        emitted = self.events.written
        async with self.engine.begin() as conn:
            yield conn
        if self.events.written != emitted:  # (or another transaction's: a wake-up too many is harmless)
            self.on_emitted()

    async def create(
        self,
        conn: AsyncConnection,
        *,
        content_id: str,
        version: int,
        account: str,
        operation: str = "publish",
        post: Post | None,
        state: S,
        due_at: datetime | None,
        error: DeliveryError | None = None,
        note: str | None = None,
    ) -> Job | None:
        """Insert a job (``received``, then ``state``); None if this version is already known."""
        new = NewJob(content_id, version, account, post, state, due_at, operation, error, note)
        return (await self.create_many(conn, [new]))[0]

    async def create_many(self, conn: AsyncConnection, new_jobs: Sequence[NewJob]) -> list[Job | None]:
        """``create`` for many jobs with a fixed handful of statements; None where already known.

        Each row is inserted in its first state at once (``received`` moved there in memory, by the
        lifecycle's rule: nothing else can see the row in between), and its status event is that
        state's: a ``received`` that was never stored is no state anyone could see (the tracker
        shows each target as received from the approval until a publisher's first event)."""
        if not new_jobs:
            return []
        # an illegal first state raises here, before anything is written
        firsts = [_first(n, _received(n, self.channel)) for n in new_jobs]
        now = utcnow()
        params = [
            mutable_columns(first)
            | {
                "content_id": first.content_id,
                "version": first.version,
                "channel": first.channel,
                "account": first.account,
                "post": codec.post_to_json(first.post) if first.post else None,
                "unit": first.unit,
                "priority": str(first.priority),
                "created_at": now,
                "updated_at": now,
            }
            for first in firsts
        ]
        stmt = (
            self._insert(jobs)
            .on_conflict_do_nothing(index_elements=["content_id", "version", "channel", "account"])
            .returning(*WITHOUT_POST)
        )
        rows = (await conn.execute(stmt, params)).all()
        posts = {(j.content_id, j.version, j.account): j.post for j in firsts}
        created: dict[tuple[str, int, str], Job] = {}
        for row in rows:
            key = (row.content_id, row.version, row.account)
            created[key] = job_from_row(row, posts[key])
        await self.events.emit_many(conn, list(created.values()))
        return [created.get((n.content_id, n.version, n.account)) for n in new_jobs]

    async def transition(
        self,
        conn: AsyncConnection,
        job: Job,
        state: S,
        *,
        owner: str | None = None,
        **changes: Unpack[Changes],
    ) -> Job:
        """Move ``job`` (as loaded) to ``state`` with ``changes``; ``LostJobError`` if it moved meanwhile.

        With ``owner``, the write also requires that this replica still holds the job's lease.
        The lease is released unless ``changes`` sets it.
        """
        new = moved(job, state, changes)
        if not await self._write(conn, job, new, owner):
            raise LostJobError(f"job {job.id} ({job.delivery_id} v{job.version}) is no longer {job.state}")
        await self.events.emit(conn, new)
        return new

    async def set_quietly(
        self, conn: AsyncConnection, job: Job, *, owner: str | None, **changes: Unpack[Changes]
    ) -> Job:
        """Change fields that are not a state change (lease, due time, progress): no event."""
        new = changed(job, changes)
        if not await self._write(conn, job, new, owner):
            raise LostJobError(f"job {job.id} ({job.delivery_id} v{job.version}) changed")
        return new

    async def _write(self, conn: AsyncConnection, job: Job, new: Job, owner: str | None) -> bool:
        """Write ``new`` over ``job`` if the row is still in ``job``'s state (and ``owner``'s lease)."""
        guard = [jobs.c.id == job.id, jobs.c.state == str(job.state)]
        if owner is not None:
            guard.append(jobs.c.lease_owner == owner)
        values = mutable_columns(new)
        values["updated_at"] = utcnow()
        result = await conn.execute(update(jobs).where(*guard).values(**values))
        return bool(result.rowcount == 1)

    async def transition_many(
        self, conn: AsyncConnection, moves: Sequence[Move], *, owner: str | None
    ) -> list[Job | None]:
        """``transition`` for many jobs in one transaction, with a few statements in all.

        The jobs are read again under lock first; one that moved meanwhile (or whose lease is no
        longer ``owner``'s) is left alone and comes back as None, the others as they are now.
        An illegal move raises before anything is written.
        """
        if not moves:
            return []
        for move in moves:
            check(move.job.id, move.job.state, move.to)
        stmt = _CURRENT if is_sqlite(self.engine) else _CURRENT_LOCKED
        rows = (await conn.execute(stmt, {"ids": [move.job.id for move in moves]})).all()
        posts = {move.job.id: move.job.post for move in moves}
        current = {row.id: job_from_row(row, posts[row.id]) for row in rows}
        return await self.transition_read(conn, moves, owner=owner, current=current)

    async def transition_read(
        self,
        conn: AsyncConnection,
        moves: Sequence[Move],
        *,
        owner: str | None,
        current: dict[int, Job] | None = None,
    ) -> list[Job | None]:
        """``transition_many`` for jobs this transaction has already read under lock (or written):
        each move's job is taken as the row is now, without reading it again (``current``: the
        rows as read, where some are missing).
        """
        rows = current if current is not None else {move.job.id: move.job for move in moves}
        results = await self._write_moves(conn, rows, moves, owner)
        await self.events.emit_many(conn, [j for j in results if j is not None])
        return results

    async def _write_moves(
        self, conn: AsyncConnection, current: dict[int, Job], moves: Sequence[Move], owner: str | None
    ) -> list[Job | None]:
        """Write ``moves`` over the jobs as ``current`` holds them (one statement); no event.

        A job missing from ``current``, in another state or (with ``owner``) under another lease is
        left alone and comes back as None.
        """
        now = utcnow()
        results: list[Job | None] = []
        params: list[dict[str, Any]] = []
        for job, state, changes in moves:
            fresh = current.get(job.id)
            if (
                fresh is None
                or fresh.state is not job.state
                or (owner is not None and fresh.lease_owner != owner)
            ):
                results.append(None)
                continue
            new = moved(fresh, state, changes(fresh) if callable(changes) else changes)
            current[job.id] = new  # a second move of the same job in this batch starts from here
            results.append(new)
            row = {f"b_{k}": v for k, v in mutable_columns(new).items()}
            row.update(b_id=job.id, b_old_state=str(fresh.state), b_updated_at=now)
            params.append(row)
        if params:
            result = await conn.execute(_UPDATE_JOB, params)
            if result.rowcount not in (-1, len(params)):  # -1: the driver does not count executemany
                raise LostJobError(f"{len(params) - result.rowcount} job(s) changed under a held lock")
        return results


def _first(new: NewJob, received: Job) -> Job:
    """The job in ``new``'s first state: ``received`` moved there (``lifecycle.moved``)."""
    if new.state is S.RECEIVED:
        return received
    changes: Changes = {"due_at": new.due_at, "error": new.error, "note": new.note, "held_at": new.held_at}
    return moved(received, new.state, changes)


def _received(new: NewJob, channel: str) -> Job:
    """The job ``new`` is as ``received``, before its first move (its id is the row's, once inserted)."""
    return Job(
        id=0,
        content_id=new.content_id,
        version=new.version,
        channel=channel,
        account=new.account,
        operation=new.operation,
        state=S.RECEIVED,
        due_at=new.due_at,
        attempt=0,
        attempt_floor=0,
        post=new.post,
        result=None,
        native=False,
        error=None,
        note=None,
        retract_requested=False,
        parked_version=None,
        lease_owner=None,
        lease_expires_at=None,
        unit=new.unit,
        priority=new.priority,
    )

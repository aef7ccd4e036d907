"""Jobs and their state changes: each change writes the job row and an outbox event in one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.channels import Post, PublishResult
from loa.db import is_sqlite, upsert
from loa.events import Delivery, DeliveryError, DeliveryState, DeliveryStatus, utcnow
from loa.events.delivery import delivery_id
from loa.publisher.store import codec
from loa.publisher.store.schema import jobs, outbox, sequences

NOTE_MAX = 500

PENDING = frozenset(
    {DeliveryState.RECEIVED, DeliveryState.SCHEDULED, DeliveryState.RETRYING, DeliveryState.NEEDS_ATTENTION}
)
"""Not gone yet and not in flight: an update replaces these, a retraction cancels them."""

CLAIMABLE = (DeliveryState.SCHEDULED, DeliveryState.RETRYING, DeliveryState.RETRACTING)

Changes = Mapping[str, Any] | Callable[["Job"], Mapping[str, Any]]
"""What a state change sets: fixed values, or values computed from the job as stored now."""


@dataclass(frozen=True)
class NewJob:
    """A job to create: ``received``, then ``state`` (each with its status event)."""

    content_id: str
    version: int
    account: str
    post: Post | None
    state: DeliveryState
    due_at: datetime | None
    operation: str = "publish"
    error: DeliveryError | None = None
    note: str | None = None


class LostJobError(RuntimeError):
    """The job changed under us (another transaction moved it, or our lease was taken)."""


@dataclass(frozen=True)
class Job:
    id: int
    content_id: str
    version: int
    channel: str
    account: str
    operation: str
    state: DeliveryState
    due_at: datetime | None
    attempt: int
    attempt_floor: int
    post: Post | None
    result: PublishResult | None
    native: bool
    error: DeliveryError | None
    note: str | None
    retract_requested: bool
    parked_version: int | None
    lease_owner: str | None
    lease_expires_at: datetime | None

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.content_id, self.channel, self.account)

    @property
    def attempts_since_retry(self) -> int:
        return self.attempt - self.attempt_floor

    def log_extra(self) -> dict[str, Any]:
        return {
            "content_id": self.content_id,
            "version": self.version,
            "channel": self.channel,
            "account": self.account,
            "attempt": self.attempt,
            "state": str(self.state),
        }


_UNSET: Any = object()
_WITHOUT_POST = [c for c in jobs.c if c.name != "post"]


def _job_from_row(row: Row[Any], post: Post | None = _UNSET) -> Job:
    """The job of a row; ``post``: the one already known, for a row read without it."""
    m = row._mapping
    if post is _UNSET:
        post = codec.post_from_json(m["post"]) if m["post"] else None
    return Job(
        id=m["id"],
        content_id=m["content_id"],
        version=m["version"],
        channel=m["channel"],
        account=m["account"],
        operation=m["operation"],
        state=DeliveryState(m["state"]),
        due_at=m["due_at"],
        attempt=m["attempt"],
        attempt_floor=m["attempt_floor"],
        post=post,
        result=codec.result_from_json(m["result"]) if m["result"] else None,
        native=bool(m["native"]),
        error=codec.error_from_json(m["error"]) if m["error"] else None,
        note=m["note"],
        retract_requested=bool(m["retract_requested"]),
        parked_version=m["parked_version"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
    )


def _mutable_columns(job: Job) -> dict[str, Any]:
    """What a state change may write. Not ``post``: it never changes in a transition (only
    ``save_progress`` rewrites it), so it is not serialised again on every change."""
    return {
        "operation": job.operation,
        "state": str(job.state),
        "due_at": job.due_at,
        "attempt": job.attempt,
        "attempt_floor": job.attempt_floor,
        "result": codec.result_to_json(job.result) if job.result else None,
        "native": job.native,
        "error": codec.error_to_json(job.error) if job.error else None,
        "note": job.note[:NOTE_MAX] if job.note else None,
        "retract_requested": job.retract_requested,
        "parked_version": job.parked_version,
        "lease_owner": job.lease_owner,
        "lease_expires_at": job.lease_expires_at,
    }


_MUTABLE = (
    "operation", "state", "due_at", "attempt", "attempt_floor", "result", "native", "error", "note",
    "retract_requested", "parked_version", "lease_owner", "lease_expires_at", "updated_at",
)  # fmt: skip
# Built once: executed with a list of parameter sets (executemany), compiled once and cached.
_UPDATE_JOB = (
    update(jobs)
    .where(jobs.c.id == bindparam("b_id"), jobs.c.state == bindparam("b_old_state"))
    .values({name: bindparam(f"b_{name}") for name in _MUTABLE})
)
_SET_SEQUENCE = (
    update(sequences)
    .where(sequences.c.delivery_id == bindparam("b_delivery_id"))
    .values(last=bindparam("b_last"))
)


class JobStore:
    """The publisher's durable job store for one channel."""

    def __init__(self, engine: AsyncEngine, channel: str) -> None:
        self.engine = engine
        self.channel = channel
        self.producer = f"loa-publisher-{channel}"
        self._insert = partial(upsert, engine)
        self.on_emitted: Callable[[], None] = lambda: None
        """Called after a transaction that wrote status events committed (the relay's wake-up)."""
        self._emitted = 0

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        emitted = self._emitted
        async with self.engine.begin() as conn:
            yield conn
        if self._emitted != emitted:  # (or another transaction's: a wake-up too many is harmless)
            self.on_emitted()

    # ---- events -------------------------------------------------------------------------------

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
                public_url=job.result.url[:2000] if job.result and job.result.url else None,
                error=job.error,
                note=job.note[:NOTE_MAX] if job.note else None,
            ),
        )
        return {"key": job.content_id, "payload": event.model_dump_json(), "created_at": now}

    async def _emit(self, conn: AsyncConnection, job: Job) -> None:
        """Write the job's status event to the outbox, numbered in its delivery's sequence."""
        self._emitted += 1
        sequence = await self._next_sequence(conn, job.delivery_id)
        await conn.execute(insert(outbox).values(**self._status_row(job, sequence, utcnow())))

    async def _emit_many(self, conn: AsyncConnection, changed: Sequence[Job]) -> None:
        """``_emit`` for many jobs with a handful of statements, whatever their number.

        The sequence rows are read under a row lock (PostgreSQL; SQLite holds the write lock),
        so no concurrent transaction can hand out the same number.
        """
        if not changed:
            return
        self._emitted += 1
        dids = sorted({j.delivery_id for j in changed})
        stmt = select(sequences.c.delivery_id, sequences.c.last).where(sequences.c.delivery_id.in_(dids))
        if not is_sqlite(self.engine):
            stmt = stmt.order_by(sequences.c.delivery_id).with_for_update()
        last: dict[str, int] = {r.delivery_id: int(r.last) for r in (await conn.execute(stmt)).all()}
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

    # ---- creating and changing jobs -----------------------------------------------------------

    async def create(
        self,
        conn: AsyncConnection,
        *,
        content_id: str,
        version: int,
        account: str,
        operation: str = "publish",
        post: Post | None,
        state: DeliveryState,
        due_at: datetime | None,
        error: DeliveryError | None = None,
        note: str | None = None,
    ) -> Job | None:
        """Insert a job (``received``, then ``state``); None if this version is already known."""
        new = NewJob(content_id, version, account, post, state, due_at, operation, error, note)
        return (await self.create_many(conn, [new]))[0]

    async def create_many(self, conn: AsyncConnection, new_jobs: Sequence[NewJob]) -> list[Job | None]:
        """``create`` for many jobs with a fixed handful of statements; None where already known."""
        if not new_jobs:
            return []
        now = utcnow()
        params = [
            {
                "content_id": n.content_id,
                "version": n.version,
                "channel": self.channel,
                "account": n.account,
                "operation": n.operation,
                "state": str(DeliveryState.RECEIVED),
                "due_at": n.due_at,
                "attempt": 0,
                "attempt_floor": 0,
                "post": codec.post_to_json(n.post) if n.post else None,
                "native": False,
                "retract_requested": False,
                "created_at": now,
                "updated_at": now,
            }
            for n in new_jobs
        ]
        stmt = (
            self._insert(jobs)
            .on_conflict_do_nothing(index_elements=["content_id", "version", "channel", "account"])
            .returning(*_WITHOUT_POST)
        )
        rows = (await conn.execute(stmt, params)).all()
        by_key = {(n.content_id, n.version, n.account): n for n in new_jobs}
        created: dict[tuple[str, int, str], Job] = {}
        for row in rows:
            key = (row.content_id, row.version, row.account)
            created[key] = _job_from_row(row, by_key[key].post)
        await self._emit_many(conn, list(created.values()))
        moves: list[tuple[Job, DeliveryState, Changes]] = [
            (job, n.state, {"due_at": n.due_at, "error": n.error, "note": n.note})
            for key, job in created.items()
            if (n := by_key[key]).state is not DeliveryState.RECEIVED
        ]
        moved = {new.id: new for new in await self.transition_many(conn, moves, owner=None) if new}
        out: list[Job | None] = []
        for n in new_jobs:
            job = created.get((n.content_id, n.version, n.account))
            out.append(None if job is None else moved.get(job.id, job))
        return out

    async def transition(
        self,
        conn: AsyncConnection,
        job: Job,
        state: DeliveryState,
        *,
        owner: str | None = None,
        **changes: Any,
    ) -> Job:
        """Move ``job`` (as loaded) to ``state`` with ``changes``; ``LostJobError`` if it moved meanwhile.

        With ``owner``, the write also requires that this replica still holds the job's lease.
        The lease is released unless ``changes`` sets it.
        """
        changes.setdefault("lease_owner", None)
        changes.setdefault("lease_expires_at", None)
        new = replace(job, state=state, **changes)
        guard = [jobs.c.id == job.id, jobs.c.state == str(job.state)]
        if owner is not None:
            guard.append(jobs.c.lease_owner == owner)
        values = _mutable_columns(new)
        values["updated_at"] = utcnow()
        result = await conn.execute(update(jobs).where(*guard).values(**values))
        if result.rowcount != 1:
            raise LostJobError(f"job {job.id} ({job.delivery_id} v{job.version}) is no longer {job.state}")
        await self._emit(conn, new)
        return new

    async def set_quietly(self, conn: AsyncConnection, job: Job, *, owner: str | None, **changes: Any) -> Job:
        """Change fields that are not a state change (lease, due time, progress): no event."""
        new = replace(job, **changes)
        guard = [jobs.c.id == job.id, jobs.c.state == str(job.state)]
        if owner is not None:
            guard.append(jobs.c.lease_owner == owner)
        values = _mutable_columns(new)
        values["updated_at"] = utcnow()
        result = await conn.execute(update(jobs).where(*guard).values(**values))
        if result.rowcount != 1:
            raise LostJobError(f"job {job.id} ({job.delivery_id} v{job.version}) changed")
        return new

    async def transition_many(
        self,
        conn: AsyncConnection,
        moves: Sequence[tuple[Job, DeliveryState, Changes]],
        *,
        owner: str | None,
    ) -> list[Job | None]:
        """``transition`` for many jobs in one transaction, with a few statements in all.

        Each move is (job as loaded, new state, changes or a function of the job as stored now).
        The jobs are read again under lock first; one that moved meanwhile (or whose lease is no
        longer ``owner``'s) is left alone and comes back as None, the others as they are now.
        """
        if not moves:
            return []
        # Read without the post (it does not change here): no JSON parsed again per job.
        stmt = select(*_WITHOUT_POST).where(jobs.c.id.in_([job.id for job, _, _ in moves]))
        if not is_sqlite(self.engine):
            stmt = stmt.order_by(jobs.c.id).with_for_update()
        posts = {job.id: job.post for job, _, _ in moves}
        current = {row.id: _job_from_row(row, posts[row.id]) for row in (await conn.execute(stmt)).all()}
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
            values = dict(changes(fresh) if callable(changes) else changes)
            values.setdefault("lease_owner", None)
            values.setdefault("lease_expires_at", None)
            new = replace(fresh, state=state, **values)
            current[job.id] = new  # a second move of the same job in this batch starts from here
            results.append(new)
            row = {f"b_{k}": v for k, v in _mutable_columns(new).items()}
            row.update(b_id=job.id, b_old_state=str(fresh.state), b_updated_at=now)
            params.append(row)
        if params:
            result = await conn.execute(_UPDATE_JOB, params)
            if result.rowcount not in (-1, len(params)):  # -1: the driver does not count executemany
                raise LostJobError(f"{len(params) - result.rowcount} job(s) changed under a held lock")
            await self._emit_many(conn, [j for j in results if j is not None])
        return results

    # ---- reading ------------------------------------------------------------------------------

    async def get(self, conn: AsyncConnection, job_id: int, *, lock: bool = True) -> Job | None:
        """The job as it is now; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
        stmt = select(jobs).where(jobs.c.id == job_id)
        if lock and not is_sqlite(self.engine):
            stmt = stmt.with_for_update()
        row = (await conn.execute(stmt)).first()
        return _job_from_row(row) if row else None

    async def versions_of(
        self, conn: AsyncConnection, content_ids: Sequence[str]
    ) -> dict[tuple[str, str], list[Job]]:
        """``versions`` of many contents in one query: (content id, account) → jobs, oldest first."""
        if not content_ids:
            return {}
        stmt = select(jobs).where(jobs.c.content_id.in_(list(content_ids)), jobs.c.channel == self.channel)
        if not is_sqlite(self.engine):
            stmt = stmt.with_for_update()
        out: dict[tuple[str, str], list[Job]] = {}
        for row in (await conn.execute(stmt.order_by(jobs.c.version, jobs.c.id))).all():
            job = _job_from_row(row)
            out.setdefault((job.content_id, job.account), []).append(job)
        return out

    async def newest_versions(self, content_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(content id, account) → the newest version known, for the contents given (one read)."""
        if not content_ids:
            return {}
        stmt = (
            select(jobs.c.content_id, jobs.c.account, func.max(jobs.c.version))
            .where(jobs.c.content_id.in_(list(content_ids)), jobs.c.channel == self.channel)
            .group_by(jobs.c.content_id, jobs.c.account)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
            await conn.rollback()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    async def versions(self, conn: AsyncConnection, content_id: str, account: str | None = None) -> list[Job]:
        """Every job of one content on this channel (optionally one account), oldest version first."""
        stmt = select(jobs).where(jobs.c.content_id == content_id, jobs.c.channel == self.channel)
        if account is not None:
            stmt = stmt.where(jobs.c.account == account)
        if not is_sqlite(self.engine):
            stmt = stmt.with_for_update()
        rows = (await conn.execute(stmt.order_by(jobs.c.version, jobs.c.id))).all()
        return [_job_from_row(r) for r in rows]

    async def counts_by_state(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state))).all()
        return {str(state): int(n) for state, n in rows}

    async def parked(self, conn: AsyncConnection) -> list[Job]:
        rows = (
            await conn.execute(
                select(jobs).where(
                    jobs.c.state == str(DeliveryState.NEEDS_ATTENTION), jobs.c.parked_version.is_not(None)
                )
            )
        ).all()
        return [_job_from_row(r) for r in rows]

    # ---- claiming -----------------------------------------------------------------------------

    async def claim(
        self,
        owner: str,
        *,
        limit: int,
        lease: timedelta,
        reclaim_own: bool = False,
        start: Callable[[Job], bool] | None = None,
        skip: Sequence[int] = (),
    ) -> list[Job]:
        """Lease up to ``limit`` jobs that are due, or in doubt (``publishing`` with an expired lease).

        PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so replicas never wait on or take each other's rows.
        SQLite: the transaction is ``BEGIN IMMEDIATE`` (one writer), so select-then-lease is atomic.
        ``reclaim_own``: also take ``publishing`` jobs this replica held before a restart.
        ``start``: due ``scheduled``/``retrying`` jobs it accepts go to ``publishing`` (attempt + 1,
        status event in the outbox) in this same transaction, so they come back ready for the
        platform call; the others come back leased as they were.
        ``skip``: jobs this replica is still working on (a lease that expired during a store outage
        must not hand the same job to a second task of the same replica).
        """
        now = utcnow()
        free = or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at < now)
        due = and_(jobs.c.state.in_([str(s) for s in CLAIMABLE]), jobs.c.due_at <= now, free)
        in_doubt_states = [str(DeliveryState.PUBLISHING)]
        in_doubt = and_(jobs.c.state.in_(in_doubt_states), free)
        conditions = [due, in_doubt]
        if reclaim_own:  # what this replica held when it died: in doubt, or due and merely claimed
            mine = jobs.c.lease_owner == owner
            conditions += [
                and_(jobs.c.state.in_(in_doubt_states), mine),
                and_(due.clauses[0], due.clauses[1], mine),
            ]
        stmt = (
            select(jobs)
            .where(jobs.c.channel == self.channel, or_(*conditions), jobs.c.id.not_in(list(skip)))
            .order_by(jobs.c.due_at)
            .limit(limit)
        )
        if not is_sqlite(self.engine):
            stmt = stmt.with_for_update(skip_locked=True)
        expires = now + lease
        async with self.tx() as conn:
            rows = (await conn.execute(stmt)).all()
            if not rows:
                return []
            ids = [r._mapping["id"] for r in rows]
            await conn.execute(
                update(jobs).where(jobs.c.id.in_(ids)).values(lease_owner=owner, lease_expires_at=expires)
            )
            claimed = [replace(_job_from_row(r), lease_owner=owner, lease_expires_at=expires) for r in rows]
            startable = (DeliveryState.SCHEDULED, DeliveryState.RETRYING)
            to_start = [
                job
                for job in claimed
                if start is not None and job.state in startable and not job.native and start(job)
            ]
            if not to_start:
                return claimed

            def publishing(fresh: Job) -> dict[str, Any]:
                return {
                    "attempt": fresh.attempt + 1,
                    "error": None,
                    "lease_owner": owner,
                    "lease_expires_at": expires,
                }

            moved = await self.transition_many(
                conn, [(job, DeliveryState.PUBLISHING, publishing) for job in to_start], owner=owner
            )
        started = {job.id: new for job, new in zip(to_start, moved, strict=True) if new is not None}
        return [started.get(job.id, job) for job in claimed]

    async def retracted_in_flight(self, job_ids: Sequence[int]) -> set[int]:
        """Which of these jobs in ``publishing`` were asked meanwhile to retract (intake flags them)."""
        if not job_ids:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(jobs.c.id).where(
                    jobs.c.id.in_(list(job_ids)),
                    jobs.c.state == str(DeliveryState.PUBLISHING),
                    jobs.c.retract_requested.is_(True),
                )
            )
            return set(rows.scalars())

    async def renew(self, owner: str, job_ids: Sequence[int], lease: timedelta) -> None:
        if not job_ids:
            return
        async with self.tx() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(list(job_ids)), jobs.c.lease_owner == owner)
                .values(lease_expires_at=utcnow() + lease)
            )

    async def release(self, owner: str, job_ids: Sequence[int]) -> None:
        """Give leases back (shutdown): the jobs are due again for anyone, at once."""
        if not job_ids:
            return
        async with self.tx() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(list(job_ids)), jobs.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def next_due(self) -> datetime | None:
        """The earliest due time of a waiting job (the dispatcher sleeps until then, at most)."""
        async with self.engine.connect() as conn:
            stmt = select(func.min(jobs.c.due_at)).where(
                jobs.c.channel == self.channel, jobs.c.state.in_([str(s) for s in CLAIMABLE])
            )
            value = (await conn.execute(stmt)).scalar_one_or_none()
        if isinstance(value, str):  # pragma: no cover - SQLite returns aggregates as text
            value = datetime.fromisoformat(value)
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)

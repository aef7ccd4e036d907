"""Leases: claiming due jobs (and jobs in doubt), renewing and giving back leases, the next due time."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, case, func, or_, select, true, update

from loa.db import is_sqlite, utc_aggregate
from loa.events import Priority, utcnow
from loa.publisher.job import Job
from loa.publisher.lifecycle import CLAIMABLE, QUEUE_JUMPING, Move, S, attempt_started
from loa.publisher.store import leases
from loa.publisher.store.rows import job_from_row
from loa.publisher.store.schema import jobs
from loa.publisher.store.writes import JobWrites

STARTABLE = (S.SCHEDULED, S.RETRYING)
"""Due jobs a claim may move to ``publishing`` in its own transaction."""

LANE = case(
    (or_(jobs.c.priority == str(Priority.URGENT), jobs.c.state.in_([str(s) for s in QUEUE_JUMPING])), 0),
    else_=1,
)
"""0 for work that jumps the queue (``lifecycle.jumps_the_queue``), 1 for the rest: the claim's
first sort key, so urgent content and a retraction's take-downs go before any due normal backlog.
The filter still runs on ``ix_jobs_state_due``; the due rows are then top-N sorted (docs/architecture.md,
"The urgent lane")."""


def _due(now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """Waiting jobs whose time has come and whose lease (if any) has run out: what a claim takes
    first, and what the intake gate counts."""
    return and_(jobs.c.state.in_([str(s) for s in CLAIMABLE]), jobs.c.due_at <= now, leases.free(jobs, now))


_NOW = bindparam("now", type_=jobs.c.due_at.type)
"""The claim's and the count's time, bound per call: their statements are built once."""


@functools.cache
def _claim_statement(*, reclaim_own: bool, jumping_only: bool, for_update: bool) -> Select[Any]:
    """The claim's select, built once per variant and executed with ``now``, ``channel``, ``owner``,
    ``skip`` and ``limit`` bound: building it per call (its conditions, the lane's ``case``, a cache
    key) was most of what an idle publisher's claims cost (a poll every 0.2 s)."""
    due = _due(_NOW)
    in_doubt_states = [str(S.PUBLISHING)]
    conditions = [due, and_(jobs.c.state.in_(in_doubt_states), leases.free(jobs, _NOW))]
    if reclaim_own:  # what this replica held when it died: in doubt, or due and merely claimed
        mine = jobs.c.lease_owner == bindparam("owner")
        conditions += [
            and_(jobs.c.state.in_(in_doubt_states), mine),
            and_(due.clauses[0], due.clauses[1], mine),
        ]
    stmt = (
        select(jobs)
        .where(
            jobs.c.channel == bindparam("channel"),
            or_(*conditions),
            jobs.c.id.not_in(bindparam("skip", expanding=True)),
        )
        .where(LANE == 0 if jumping_only else true())
        # the lane first; then the id: jobs due at once go in the order they came
        .order_by(LANE, jobs.c.due_at, jobs.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    return stmt.with_for_update(skip_locked=True) if for_update else stmt


_LEASE = (
    update(jobs)
    .where(jobs.c.id.in_(bindparam("ids", expanding=True)))
    .values(lease_owner=bindparam("b_owner"), lease_expires_at=bindparam("b_expires"))
)
_COUNT_DUE = select(func.count()).where(jobs.c.channel == bindparam("channel"), _due(_NOW))


class JobClaims(JobWrites):
    """The reads and writes, and the leases that keep replicas from working on the same job."""

    async def claim(
        self,
        owner: str,
        *,
        limit: int,
        lease: timedelta,
        reclaim_own: bool = False,
        start: Callable[[Job], bool] | None = None,
        skip: Sequence[int] = (),
        jumping_only: bool = False,
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
        ``jumping_only``: only work that jumps the queue (the dispatcher's reserved slots).
        """
        now = utcnow()
        stmt = _claim_statement(
            reclaim_own=reclaim_own, jumping_only=jumping_only, for_update=not is_sqlite(self.engine)
        )
        params = {"now": now, "channel": self.channel, "owner": owner, "skip": list(skip), "limit": limit}
        expires = now + lease
        async with self.tx() as conn:
            rows = (await conn.execute(stmt, params)).all()
            if not rows:
                return []
            claimed = [replace(job_from_row(r), lease_owner=owner, lease_expires_at=expires) for r in rows]
            to_start = [
                job
                for job in claimed
                if start is not None and job.state in STARTABLE and not job.native and start(job)
            ]
            # The rows are read and locked in this transaction (FOR UPDATE; SQLite's one writer):
            # the started ones are written once, lease included, and not read again.
            starting = {job.id for job in to_start}
            if leased_only := [job.id for job in claimed if job.id not in starting]:
                await conn.execute(_LEASE, {"ids": leased_only, "b_owner": owner, "b_expires": expires})
            if not to_start:
                return claimed
            moves = [
                Move(job, S.PUBLISHING, lambda fresh: attempt_started(fresh, owner, expires))
                for job in to_start
            ]
            moved = await self.transition_read(conn, moves, owner=owner)
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
                    jobs.c.state == str(S.PUBLISHING),
                    jobs.c.retract_requested.is_(True),
                )
            )
            return set(rows.scalars())

    async def renew(self, owner: str, job_ids: Sequence[int], lease: timedelta) -> None:
        await self._set_leases(owner, job_ids, until=utcnow() + lease)

    async def release(self, owner: str, job_ids: Sequence[int]) -> None:
        """Give leases back (shutdown): the jobs are due again for anyone, at once."""
        await self._set_leases(owner, job_ids, until=None)

    async def _set_leases(self, owner: str, job_ids: Sequence[int], *, until: datetime | None) -> None:
        """The leases ``owner`` still holds among ``job_ids`` run ``until`` then (None: given back)."""
        if not job_ids:
            return
        lease = jobs.c.lease_owner == owner
        values = {"lease_expires_at": until} if until else {"lease_owner": None, "lease_expires_at": None}
        async with self.tx() as conn:
            await conn.execute(update(jobs).where(jobs.c.id.in_(list(job_ids)), lease).values(values))

    async def count_due(self) -> int:
        """Jobs due and free to claim: the work this channel has yet to begin (the intake gate's
        measure of "soon", ``loa.publisher.intake_gate``)."""
        async with self.engine.connect() as conn:
            params = {"channel": self.channel, "now": utcnow()}
            return int((await conn.execute(_COUNT_DUE, params)).scalar_one())

    async def next_due(self) -> datetime | None:
        """The earliest due time of a waiting job (the dispatcher sleeps until then, at most)."""
        async with self.engine.connect() as conn:
            stmt = select(func.min(jobs.c.due_at)).where(
                jobs.c.channel == self.channel, jobs.c.state.in_([str(s) for s in CLAIMABLE])
            )
            value = (await conn.execute(stmt)).scalar_one_or_none()
        return utc_aggregate(value)

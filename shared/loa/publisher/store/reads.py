"""Reading jobs: one job, a content's versions, the parked ones, counts per state."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.db import is_sqlite
from loa.events import DeliveryState
from loa.publisher.job import Job
from loa.publisher.store.rows import job_from_row
from loa.publisher.store.schema import jobs

# The intake's reads, built once and executed with the contents and the channel bound.
_OF_CONTENTS = (
    jobs.c.content_id.in_(bindparam("content_ids", expanding=True)),
    jobs.c.channel == bindparam("channel"),
)
_VERSIONS_OF = select(jobs).where(*_OF_CONTENTS).order_by(jobs.c.version, jobs.c.id)
_VERSIONS_OF_LOCKED = _VERSIONS_OF.with_for_update()  # PostgreSQL
_NEWEST_VERSIONS = (
    select(jobs.c.content_id, jobs.c.account, func.max(jobs.c.version))
    .where(*_OF_CONTENTS)
    .group_by(jobs.c.content_id, jobs.c.account)
)


class JobReads:
    """The reads of one channel's job store (``JobStore`` adds the writes and the claims)."""

    def __init__(self, engine: AsyncEngine, channel: str) -> None:
        self.engine = engine
        self.channel = channel

    async def get(self, conn: AsyncConnection, job_id: int, *, lock: bool = True) -> Job | None:
        """The job as it is now; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
        stmt = select(jobs).where(jobs.c.id == job_id)
        if lock and not is_sqlite(self.engine):
            stmt = stmt.with_for_update()
        row = (await conn.execute(stmt)).first()
        return job_from_row(row) if row else None

    async def versions_of(
        self, conn: AsyncConnection, content_ids: Sequence[str]
    ) -> dict[tuple[str, str], list[Job]]:
        """``versions`` of many contents in one query: (content id, account) → jobs, oldest first."""
        if not content_ids:
            return {}
        stmt = _VERSIONS_OF if is_sqlite(self.engine) else _VERSIONS_OF_LOCKED
        out: dict[tuple[str, str], list[Job]] = {}
        params = {"content_ids": list(content_ids), "channel": self.channel}
        for row in (await conn.execute(stmt, params)).all():
            job = job_from_row(row)
            out.setdefault((job.content_id, job.account), []).append(job)
        return out

    async def newest_versions(self, content_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(content id, account) → the newest version known, for the contents given (one read)."""
        if not content_ids:
            return {}
        async with self.engine.connect() as conn:
            params = {"content_ids": list(content_ids), "channel": self.channel}
            rows = (await conn.execute(_NEWEST_VERSIONS, params)).all()
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
        return [job_from_row(r) for r in rows]

    async def in_states(self, conn: AsyncConnection, states: Sequence[DeliveryState]) -> list[Job]:
        """This channel's jobs in ``states``, by due time (locked until the transaction ends: PostgreSQL)."""
        stmt = select(jobs).where(jobs.c.channel == self.channel, jobs.c.state.in_([str(s) for s in states]))
        if not is_sqlite(self.engine):
            stmt = stmt.with_for_update()
        rows = (await conn.execute(stmt.order_by(jobs.c.due_at, jobs.c.id))).all()
        return [job_from_row(r) for r in rows]

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
        return [job_from_row(r) for r in rows]

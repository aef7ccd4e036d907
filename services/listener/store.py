"""The followed posts: learned from status events, claimed under a lease, moved along the schedule.

A post has a row per kind of read (``schedule.Read``: its figures, its comments), each with its own
step, next poll, failed attempts and lease: the two are claimed and scheduled independently, and
stopped together.

Durable (a restart keeps every post's next poll) and shared by replicas: a claim leases due posts
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (``BEGIN IMMEDIATE`` on SQLite), as the publishers'
job store claims jobs, so no two replicas poll one post for the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa import db
from loa.events import utcnow
from services.listener.schedule import Read
from services.listener.tables import followed, metadata

MIGRATIONS = db.Migrations(
    folder=Path(__file__).resolve().parent / "migrations",
    metadata=metadata,
    version_table="listener_alembic_version",
)


@dataclass(frozen=True)
class Published:
    """What a ``published`` status event says of a post (``follow.py`` reads it)."""

    content_id: str
    version: int
    channel: str
    account: str
    external_id: str
    published_at: datetime


@dataclass(frozen=True)
class Followed(Published):
    """A followed post as the store has it: its row (one kind of read), schedule step and failed reads
    of that step."""

    id: int
    step: int
    attempt: int
    kind: Read = Read.FIGURES


class FollowedStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str) -> FollowedStore:
        engine = db.make_engine(url, queued_writes=True)
        await db.migrate(engine, MIGRATIONS)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def follow(self, post: Published, kind: Read, first_poll: datetime | None) -> None:
        """Start reading ``kind`` of ``post`` (or take its newer version's id); an older version changes
        nothing.

        ``first_poll`` None: its schedule is already over (a status event read long after).
        """
        values = {
            "kind": kind.value,
            "content_id": post.content_id,
            "version": post.version,
            "channel": post.channel,
            "account": post.account,
            "external_id": post.external_id,
            "published_at": post.published_at,
            "step": 0,
            "next_poll_at": first_poll,
            "stopped": None if first_poll else "schedule done",
        }
        stmt = db.upsert(self.engine, followed).values(values)
        newer = stmt.excluded.version > followed.c.version
        same = and_(
            stmt.excluded.version == followed.c.version, followed.c.external_id != stmt.excluded.external_id
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["content_id", "channel", "account", "kind"],
            set_={"version": stmt.excluded.version, "external_id": stmt.excluded.external_id},
            where=or_(newer, same),
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def stop(self, content_id: str, channel: str, account: str, why: str) -> None:
        """No more polls of this delivery (retracted, taken down, gone from the platform)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(followed)
                .where(
                    followed.c.content_id == content_id,
                    followed.c.channel == channel,
                    followed.c.account == account,
                )
                .values(next_poll_at=None, stopped=why[:200], lease_owner=None, lease_expires_at=None)
            )

    async def claim(self, owner: str, *, limit: int, lease: timedelta) -> list[Followed]:
        """Lease up to ``limit`` posts whose poll is due and that no live lease holds."""
        now = utcnow()
        free = or_(followed.c.lease_expires_at.is_(None), followed.c.lease_expires_at < now)
        stmt = (
            select(followed)
            .where(followed.c.next_poll_at.is_not(None), followed.c.next_poll_at <= now, free)
            .order_by(followed.c.next_poll_at, followed.c.id)
            .limit(limit)
        )
        if not db.is_sqlite(self.engine):
            stmt = stmt.with_for_update(skip_locked=True)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
            if rows:
                await conn.execute(
                    update(followed)
                    .where(followed.c.id.in_([r.id for r in rows]))
                    .values(lease_owner=owner, lease_expires_at=now + lease)
                )
        return [
            Followed(
                r.content_id,
                r.version,
                r.channel,
                r.account,
                r.external_id,
                r.published_at,
                r.id,
                r.step,
                r.attempt,
                Read(r.kind),
            )
            for r in rows
        ]

    async def polled(self, post: Followed, owner: str, step: int | None, at: datetime | None) -> None:
        """Read: the next step and its time (None: the schedule is done), the lease given back."""
        await self._settle(
            post,
            owner,
            step=post.step if step is None else step,
            next_poll_at=at,
            attempt=0,
            last_polled_at=utcnow(),
            stopped=None if at else "schedule done",
        )

    async def deferred(self, post: Followed, owner: str, until: datetime, *, failed: bool) -> None:
        """Not read now: again at ``until`` (``failed``: one more failed attempt of this step)."""
        await self._settle(
            post, owner, next_poll_at=until, attempt=post.attempt + 1 if failed else post.attempt
        )

    async def _settle(self, post: Followed, owner: str, **values: object) -> None:
        # Only while this replica still holds the lease: a post another replica took after our
        # lease ran out is theirs now.
        async with self.engine.begin() as conn:
            await conn.execute(
                update(followed)
                .where(
                    followed.c.id == post.id,
                    followed.c.lease_owner == owner,
                    followed.c.next_poll_at.is_not(None),
                )
                .values(**values, lease_owner=None, lease_expires_at=None)
            )

    async def next_due(self) -> datetime | None:
        async with self.engine.connect() as conn:
            value = (await conn.execute(select(func.min(followed.c.next_poll_at)))).scalar_one_or_none()
        return db.utc_aggregate(value)

    async def counts(self) -> dict[str, int]:
        """Posts followed now (some read still ahead) and posts no longer followed (``/metrics``)."""
        post = (followed.c.content_id, followed.c.channel, followed.c.account)

        def posts(*where: ColumnElement[bool]) -> Select[int]:
            return select(func.count()).select_from(select(*post).where(*where).distinct().subquery())

        async with self.engine.connect() as conn:
            everything = (await conn.execute(posts())).scalar_one()
            live = (await conn.execute(posts(followed.c.next_poll_at.is_not(None)))).scalar_one()
        return {"followed": int(live), "stopped": int(everything) - int(live)}

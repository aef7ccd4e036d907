"""The holds a publisher was told of, in its job store: recorded, released, and the active ones read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.db import upsert
from loa.events import Hold, HoldRelease
from loa.publisher.store.schema import holds


@dataclass(frozen=True)
class ActiveHold:
    hold: Hold
    held_at: datetime


class HoldRecords:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, conn: AsyncConnection, hold: Hold, at: datetime) -> bool:
        """Record a hold; False if it was released already (a redelivered command after its release)."""
        row = {
            "id": hold.hold_id,
            "unit": hold.unit,
            "channel": hold.channel,
            "account": hold.account,
            "requested_by": hold.requested_by,
            "reason": hold.reason,
            "held_at": at,
        }
        await conn.execute(
            upsert(self.engine, holds).values(row).on_conflict_do_nothing(index_elements=["id"])
        )
        released = await conn.execute(select(holds.c.released_at).where(holds.c.id == hold.hold_id))
        return released.scalar_one() is None

    async def release(self, conn: AsyncConnection, release: HoldRelease, at: datetime) -> None:
        """Mark the hold released (a release of a hold never seen is recorded released: a hold
        command that came after it would stay without effect)."""
        row = {
            "id": release.hold_id,
            "requested_by": release.requested_by,
            "reason": release.reason,
            "held_at": at,
            "released_at": at,
            "released_by": release.requested_by,
        }
        await conn.execute(
            upsert(self.engine, holds).values(row).on_conflict_do_nothing(index_elements=["id"])
        )
        await conn.execute(
            update(holds)
            .where(holds.c.id == release.hold_id, holds.c.released_at.is_(None))
            .values(released_at=at, released_by=release.requested_by)
        )

    async def active(self, conn: AsyncConnection) -> list[ActiveHold]:
        rows = await conn.execute(
            select(holds).where(holds.c.released_at.is_(None)).order_by(holds.c.held_at)
        )
        return [
            ActiveHold(
                Hold(
                    hold_id=r.id,
                    unit=r.unit,
                    channel=r.channel,
                    account=r.account,
                    requested_by=r.requested_by,
                    reason=r.reason,
                ),
                r.held_at,
            )
            for r in rows
        ]

"""The hold switch as the tracker keeps it: the holds asked, their release, and the late items.

The publishers act on ``publishing.hold`` / ``.release`` (``loa.publisher.holds``); the tracker
records who held what and why, and lists the deliveries a release left ``held`` because their
time passed during the hold (no active hold covers them any more: ``Hold.covers`` decides, the
same rule the publishers apply).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import LATE_NOTE, DeliveryState, Hold
from services.tracker import queries
from services.tracker.tables import holds
from services.tracker.views import DeliveryOut, HoldOut

log = logging.getLogger(__name__)

RECENT_RELEASED = 20
"""Released holds the dashboard still lists (the newest)."""


def new_hold_id(at: datetime) -> str:
    """Sortable and unique: the time, then random hex (``20261203T201500-1a2b3c4d``)."""
    return f"{at.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


async def record_hold(engine: AsyncEngine, hold: Hold, at: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            holds.insert().values(
                id=hold.hold_id,
                unit=hold.unit,
                channel=hold.channel,
                account=hold.account,
                reason=hold.reason,
                held_by=hold.requested_by,
                held_at=at,
            )
        )


async def record_release(engine: AsyncEngine, hold_id: str, by: str, reason: str, at: datetime) -> bool:
    """Mark an active hold released; False if there is no such active hold."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(holds)
            .where(holds.c.id == hold_id, holds.c.released_at.is_(None))
            .values(released_at=at, released_by=by, release_reason=reason)
        )
    return bool(result.rowcount == 1)


def _out(row: object) -> HoldOut:
    return HoldOut.model_validate(row, from_attributes=True)


async def get_hold(engine: AsyncEngine, hold_id: str) -> HoldOut | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(holds).where(holds.c.id == hold_id))).first()
    return _out(row) if row else None


async def list_holds(engine: AsyncEngine) -> list[HoldOut]:
    """Active holds (oldest first), then the newest released ones."""
    async with engine.connect() as conn:
        active = await conn.execute(
            select(holds).where(holds.c.released_at.is_(None)).order_by(holds.c.held_at)
        )
        released = await conn.execute(
            select(holds)
            .where(holds.c.released_at.is_not(None))
            .order_by(holds.c.released_at.desc())
            .limit(RECENT_RELEASED)
        )
        return [_out(r) for r in [*active, *released]]


def as_hold(h: HoldOut) -> Hold:
    return Hold(
        hold_id=h.id,
        unit=h.unit,
        channel=h.channel,
        account=h.account,
        requested_by=h.held_by,
        reason=h.reason,
    )


async def late_items(engine: AsyncEngine) -> list[DeliveryOut]:
    """Held deliveries a release left for ops (their time passed): the publisher has said so (its
    note, ``LATE_NOTE``) and no active hold covers them. Right after a release, before the
    publishers have moved what it freed, the deliveries it held are not listed."""
    active = [as_hold(h) for h in await list_holds(engine) if h.released_at is None]
    page = await queries.list_deliveries(
        engine, queries.DeliveryFilter(states=(DeliveryState.HELD,)), page_size=500
    )
    return [
        d
        for d in page.items
        if d.note == LATE_NOTE and not any(h.covers(d.channel, d.account, d.unit) for h in active)
    ]


# ---- the audit log's call sites (loa.audit is being built beside this; until it is merged,
# each action is logged here with who, what scope and why, and the tracker's own rows keep it) ----


def scope_of(unit: str | None, channel: str | None, account: str | None) -> str:
    """A hold's scope as the audit log shows it (``everything`` when nothing narrows it)."""
    parts = [f"{k}={v}" for k, v in (("unit", unit), ("channel", channel), ("account", account)) if v]
    return " ".join(parts) or "everything"

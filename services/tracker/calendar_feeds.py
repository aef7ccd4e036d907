"""The planning calendar's iCalendar feeds: per-unit, read-only, revocable keys (docs/security.md).

A staff calendar (Google Calendar, Outlook, Apple Calendar) subscribes by URL and can send neither
a bearer token nor an OIDC sign-in, so the feed's URL carries a key in its query. The key opens one
thing: one unit's feed (the unit and the units below it), read-only. It is 256 random bits, shown
once when issued, stored only as its SHA-256 (a leaked database opens no feed), and revoked one
feed at a time. The tracker logs no request URLs (no access log; errors log the path, not the query).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.access import Principal
from loa.access.principal import Grant, Kind, Role
from loa.access.tokens import digest
from services.tracker.tables import calendar_feeds

KEY_BYTES = 32


@dataclass(frozen=True)
class Feed:
    id: str
    unit: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


async def issue(engine: AsyncEngine, unit: str, by: str, at: datetime) -> tuple[Feed, str]:
    """A new feed of ``unit`` and its key (shown once, never stored)."""
    feed_id, key = secrets.token_hex(8), secrets.token_urlsafe(KEY_BYTES)
    async with engine.begin() as conn:
        await conn.execute(
            calendar_feeds.insert().values(
                id=feed_id, unit=unit, key_hash=digest(key), created_by=by, created_at=at
            )
        )
    return Feed(feed_id, unit, by, at, None), key


async def revoke(engine: AsyncEngine, feed_id: str, by: str, at: datetime) -> Feed | None:
    """Revoke a feed; ``None`` if there is no such feed not yet revoked."""
    async with engine.begin() as conn:
        done = await conn.execute(
            update(calendar_feeds)
            .where(calendar_feeds.c.id == feed_id, calendar_feeds.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by)
        )
        if done.rowcount != 1:
            return None
        row = (await conn.execute(select(calendar_feeds).where(calendar_feeds.c.id == feed_id))).one()
    return Feed(row.id, row.unit, row.created_by, row.created_at, row.revoked_at)


async def list_feeds(engine: AsyncEngine) -> list[Feed]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(calendar_feeds).order_by(calendar_feeds.c.created_at))
        return [Feed(r.id, r.unit, r.created_by, r.created_at, r.revoked_at) for r in rows]


async def reader(engine: AsyncEngine, key: str) -> Principal | None:
    """Who a feed key is: a viewer of its feed's unit alone; ``None`` if unknown or revoked."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(calendar_feeds.c.id, calendar_feeds.c.unit).where(
                    calendar_feeds.c.key_hash == digest(key), calendar_feeds.c.revoked_at.is_(None)
                )
            )
        ).first()
    if row is None:
        return None
    return Principal(
        name=f"calendar-feed:{row.id}", kind=Kind.SERVICE, grants=frozenset({Grant(Role.VIEWER, row.unit)})
    )

"""Comment actions under a lease: one replica at a time calls the platform for an action.

Two replicas can be given the same ``comment.reply`` at once (a consumer-group rebalance while the
first is still calling). The first records the action ``sending`` with its lease; the second meets
the live lease and calls nothing (``Claim.HELD``). A lease that ran out with the action still
``sending`` means its holder died mid-call: whoever takes it then treats it as in doubt.
The lease rules themselves are ``store.leases``'s, as for jobs.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from loa.db import is_sqlite
from loa.events import utcnow
from loa.publisher.store import leases
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import comment_actions

SENDING = "sending"


class Claim(StrEnum):
    NEW = "new"
    """Recorded now, ``sending``, under this replica's lease: nothing reached the platform yet."""
    IN_DOUBT = "in_doubt"
    """``sending`` and free (or this replica's own from before a restart): the call may have landed."""
    HELD = "held"
    """``sending`` under another replica's live lease: it is calling; leave it alone."""
    SETTLED = "settled"
    """``done`` or ``failed``: its outcome already went out."""


async def claim(store: JobStore, values: dict[str, Any], holder: str, lease: timedelta) -> Claim:
    """Take the lease of the action ``values["action_id"]``, recording it ``sending`` if it is new.

    PostgreSQL: the row is read ``FOR UPDATE``, and a second replica recording the same new action
    at the same moment fails on its primary key (taken as held: the first's lease is live).
    SQLite: every transaction is ``BEGIN IMMEDIATE`` (one writer), so read-then-write is atomic.
    """
    table = comment_actions
    now = utcnow()
    takeable = or_(leases.free(table, now), table.c.lease_owner == holder).label("takeable")
    query = select(table.c.state, takeable).where(table.c.action_id == values["action_id"])
    if not is_sqlite(store.engine):
        query = query.with_for_update()
    lease_values = {"lease_owner": holder, "lease_expires_at": now + lease, "updated_at": now}
    try:
        async with store.tx() as conn:
            row = (await conn.execute(query)).one_or_none()
            if row is None:
                record = {**values, "state": SENDING, "attempt": 0, "created_at": now, **lease_values}
                await conn.execute(insert(table).values(record))
                return Claim.NEW
            if row.state != SENDING:
                return Claim.SETTLED
            if not row.takeable:
                return Claim.HELD
            await conn.execute(
                update(table).where(table.c.action_id == values["action_id"]).values(lease_values)
            )
            return Claim.IN_DOUBT
    except IntegrityError:
        return Claim.HELD


async def renew(
    store: JobStore, action_id: str, holder: str, lease: timedelta, *, count_attempt: bool = False
) -> bool:
    """Renew the lease if ``holder`` still holds it (before each attempt, counting it, and as the
    heartbeat while it calls); False: it was lost, the new holder does the rest, call nothing."""
    table = comment_actions
    now = utcnow()
    values: dict[str, Any] = {"lease_expires_at": now + lease, "updated_at": now}
    if count_attempt:
        values["attempt"] = table.c.attempt + 1
    mine = and_(table.c.action_id == action_id, table.c.state == SENDING, leases.held_by(table, holder, now))
    async with store.tx() as conn:
        done = await conn.execute(update(table).where(mine).values(values))
    return bool(done.rowcount)

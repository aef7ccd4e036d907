"""Lease rules, one owner for jobs and comment actions: who holds a row, until when, how often to renew.

A lease is a row's ``lease_owner`` (``owner``: the replica and its channel) and ``lease_expires_at``;
the holder renews it every ``renew_every`` while it works, so it outlives any platform call however
long its timeout, and runs out only when the replica dies or stalls. A row nobody holds, or whose
lease ran out, is ``free``: another replica may take it, and treats what was under way as in doubt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, or_

RENEWALS_PER_LEASE = 3
"""A holder renews three times per lease: two renewals may fail (a store blip) before it runs out."""


def owner(replica_id: str, channel: str) -> str:
    """The lease owner of one replica's publisher of ``channel`` (stable across its restarts)."""
    return f"{replica_id}/{channel}"


def renew_every(lease: timedelta) -> float:
    """Seconds between a holder's renewals of a lease of length ``lease``."""
    return lease.total_seconds() / RENEWALS_PER_LEASE


def free(table: Table, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Rows of ``table`` nobody holds at ``now`` (a time, or a parameter bound to one): no lease, or
    one that ran out."""
    return or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


def held_by(table: Table, holder: str, now: datetime) -> ColumnElement[bool]:
    """Rows of ``table`` whose lease ``holder`` still holds at ``now``."""
    return and_(table.c.lease_owner == holder, table.c.lease_expires_at >= now)

"""The audit log's one table, declared once: the tracker's schema and ``loa audit verify`` use it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from loa.db import UtcDateTime

TABLE = "audit_log"


def audit_table(metadata: MetaData) -> Table:
    """``audit_log`` in ``metadata``. Append-only: the runtime role needs INSERT and SELECT only."""
    return Table(
        TABLE,
        metadata,
        # assigned by the writer (head + 1) under the chain's lock, never by a sequence: a gap or
        # a duplicate is then tampering, not a rolled-back transaction
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("occurred_at", UtcDateTime(timezone=True), nullable=False),
        Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
        Column("source", String(100), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_kind", String(20), nullable=False),
        Column("address", String(100), nullable=False),
        Column("action", String(40), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("reason", Text, nullable=False),
        Column("content_id", String(128)),
        Column("version", Integer),
        Column("delivery_id", String(400)),
        Column("account", String(100)),
        Column("unit", String(200)),
        Column("detail", Text, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Index("ix_audit_log_occurred", "occurred_at"),
        Index("ix_audit_log_actor", "actor"),
    )

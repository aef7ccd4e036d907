"""The listener's store: the posts it follows, each kind of read (figures, comments) with the time and
step of its next poll."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, UniqueConstraint

from loa.db import UtcDateTime

metadata = MetaData()

followed = Table(
    "followed_posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("content_id", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("external_id", String(500), nullable=False),
    Column("published_at", UtcDateTime(), nullable=False),
    Column("step", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", UtcDateTime(), nullable=True),
    # next_poll_at None: no longer followed (``stopped`` says why)
    Column("attempt", Integer, nullable=False, server_default="0"),
    # attempt: failed reads of the current step in a row (the backoff exponent)
    Column("last_polled_at", UtcDateTime(), nullable=True),
    Column("stopped", String(200), nullable=True),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("kind", String(16), nullable=False, server_default="figures"),
    # kind: what this row's polls read (``schedule.Read``): a post has one row per kind
    UniqueConstraint("content_id", "channel", "account", "kind", name="uq_followed_read"),
    Index("ix_followed_due", "next_poll_at"),
)

"""The job store's tables: jobs, the per-delivery sequence, the outbox, the accounts and the holds.

Its migrations (``store/migrations``) make them; a change here needs a revision there.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from loa.db import UtcDateTime

metadata = MetaData()

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("content_id", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("operation", String(16), nullable=False, default="publish"),
    Column("state", String(20), nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("attempt", Integer, nullable=False, default=0),
    Column("attempt_floor", Integer, nullable=False, default=0),
    Column("post", Text, nullable=True),
    Column("result", Text, nullable=True),
    Column("native", Boolean, nullable=False, default=False),
    Column("error", Text, nullable=True),
    Column("note", String(500), nullable=True),
    Column("retract_requested", Boolean, nullable=False, default=False),
    Column("parked_version", Integer, nullable=True),
    Column("lease_owner", String(200), nullable=True),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("target_host", String(300), nullable=True, doc="host[:port] the platform call went to"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("unit", String(200), nullable=True, doc="the content's unit (a hold may name it)"),
    Column("held_at", UtcDateTime(), nullable=True, doc="since when a hold keeps it (state held)"),
    Column("priority", String(8), nullable=False, default="normal", doc="the content's: normal or urgent"),
    UniqueConstraint("content_id", "version", "channel", "account", name="uq_jobs_delivery_version"),
    Index("ix_jobs_state_due", "state", "due_at"),
    Index("ix_jobs_delivery", "content_id", "channel", "account"),
)

sequences = Table(
    "delivery_sequences",
    metadata,
    Column("delivery_id", String(300), primary_key=True),
    Column("last", Integer, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("topic", String(64), nullable=True, doc="its topic; None: loa.delivery.v1"),
    Index("ix_outbox_unsent", "sent_at", "id"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("credentials", Text, nullable=False, doc="Fernet token of the JSON credentials"),
    Column("options", Text, nullable=False, default="{}"),
    Column("version", Integer, nullable=False),
    Column("parked_version", Integer, nullable=True, doc="the version an AuthError parked"),
    Column("updated_at", UtcDateTime(), nullable=False),
)

holds = Table(
    "job_holds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("unit", String(200), nullable=True),
    Column("channel", String(32), nullable=True),
    Column("account", String(100), nullable=True),
    Column("requested_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("held_at", UtcDateTime(), nullable=False),
    Column("released_at", UtcDateTime(), nullable=True, doc="None while the hold is active"),
    Column("released_by", String(200), nullable=True),
    Index("ix_job_holds_released", "released_at"),
)
"""The publishing holds this publisher was told of (``publishing.hold``/``.release``): durable, so a
restart during a hold knows it before its dispatcher claims anything."""

comment_actions = Table(
    "comment_actions",
    metadata,
    Column("action_id", String(64), primary_key=True, doc="the command's: a replay meets this row"),
    Column("channel", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("content_id", String(128), nullable=False),
    Column("comment_id", String(500), nullable=False),
    Column("kind", String(16), nullable=False, doc="reply or moderate"),
    Column("text", Text, nullable=True, doc="the reply's text"),
    Column("requested_by", String(200), nullable=False),
    Column("state", String(16), nullable=False, doc="sending (before the call), done or failed"),
    Column("attempt", Integer, nullable=False, default=0),
    Column("reply_id", String(500), nullable=True),
    Column("error", String(2000), nullable=True),
    Column("lease_owner", String(200), nullable=True, doc="the replica working on it (``store.leases``)"),
    Column("lease_expires_at", UtcDateTime(), nullable=True, doc="renewed while it works; None once settled"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
"""Replies and moderations of citizens' comments (``comment.reply``/``.moderate``): recorded before
the platform call, settled after, so a redelivered command is done once (``publisher/comment_actions``)."""

"""The tracker's SQL schema (SQLAlchemy Core); Alembic migrations create it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

from loa.audit.table import audit_table
from loa.db import UtcDateTime

metadata = MetaData()

contents = Table(
    "contents",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("search_text", Text, nullable=False, server_default=""),
    Column("unit", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("priority", String(8), nullable=False, server_default="normal"),
    Column("approved_by", String(200), nullable=False),
    Column("approver_claim", String(200), nullable=True),
    Column("approved_at", UtcDateTime(timezone=True), nullable=False),
    Column("publish_at", UtcDateTime(timezone=True)),
    Column("canonical_url", Text),
    Column("targets", JSON, nullable=False),
    Column("retracted_at", UtcDateTime(timezone=True)),
    Column("retracted_by", String(200)),
    Column("retract_reason", Text),
    Column("updated_at", UtcDateTime(timezone=True), nullable=False),
    Column("corrects", String(128), doc="the content this one corrects (kind correction)"),
    Index("ix_contents_unit_approved", "unit", "approved_at"),
    Index("ix_contents_corrects", "corrects"),
    Index("ix_contents_approved", "approved_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(400), primary_key=True),
    Column("content_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("due_at", UtcDateTime(timezone=True)),
    Column("external_id", String(500)),
    Column("public_url", Text),
    Column("target_host", String(300), doc="host[:port] the platform call went to"),
    Column("error_class", String(20)),
    Column("error_code", String(100)),
    Column("error_message", Text),
    Column("note", Text),
    Column("state_at", UtcDateTime(timezone=True), nullable=False),
    Column("published_at", UtcDateTime(timezone=True)),
    Column("first_seen_at", UtcDateTime(timezone=True), nullable=False),
    Index("ix_deliveries_content", "content_id"),
    Index("ix_deliveries_state_channel", "state", "channel"),
    Index("ix_deliveries_channel_account", "channel", "account"),
)

delivery_recipients = Table(
    "delivery_recipients",
    metadata,
    Column("delivery_id", String(400), primary_key=True),
    Column("sequence", BigInteger, nullable=False, doc="of the status event that carried the report"),
    Column("report", Text, nullable=False, doc="loa.events.delivery.RecipientsReport as JSON"),
)
"""A list channel's per-recipient outcomes (e-mail), apart from ``deliveries``: up to 5,000 rows
of a press list in one report, read only by the delivery page."""

delivery_history = Table(
    "delivery_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", String(400), nullable=False),
    Column("content_id", String(128), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("occurred_at", UtcDateTime(timezone=True), nullable=False),
    Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
    Column("producer", String(100), nullable=False),
    Column("external_id", String(500)),
    Column("public_url", Text),
    Column("error_class", String(20)),
    Column("error_code", String(100)),
    Column("error_message", Text),
    Column("error_excerpt", Text),
    Column("note", Text),
    UniqueConstraint("delivery_id", "sequence", name="uq_delivery_history_seq"),
    Index("ix_delivery_history_content", "content_id"),
)

content_history = Table(
    "content_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("content_id", String(128), nullable=False),
    Column("type", String(40), nullable=False),
    Column("version", Integer),
    Column("actor", String(200), nullable=False),
    Column("occurred_at", UtcDateTime(timezone=True), nullable=False),
    Column("channel", String(32)),
    Column("account", String(100)),
    Column("detail", Text),
    Index("ix_content_history_content", "content_id"),
)

alerts_outbox = Table(
    "alerts_outbox",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("hook", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime(timezone=True), nullable=False),
    Column("delivered_at", UtcDateTime(timezone=True)),
    Column("given_up", Boolean, nullable=False, server_default="0"),
    Column("last_error", Text),
    Index("ix_alerts_due", "delivered_at", "given_up", "next_attempt_at"),
)

dashboard_sessions = Table(
    "sessions",
    metadata,
    # SHA-256 of the cookie's random id: a copy of the table lets no one sign in
    Column("id_sha256", String(64), primary_key=True),
    # the loa.access.Principal signed in: a person (OIDC) or a service account (bearer token)
    Column("principal", String(200), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("grants", JSON, nullable=False),  # [["editor", "so-y-te"], ...]
    Column("created_at", UtcDateTime(timezone=True), nullable=False),
    Column("expires_at", UtcDateTime(timezone=True), nullable=False),
    Column("revoked_at", UtcDateTime(timezone=True)),
    # a person's ID token, encrypted with a key derived from the cookie (sessions.py): useless alone
    Column("id_token_sealed", Text),
    Index("ix_sessions_expires", "expires_at"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("unit", String(200)),
    Column("channel", String(32)),
    Column("account", String(100)),
    Column("reason", Text, nullable=False),
    Column("held_by", String(200), nullable=False),
    Column("held_at", UtcDateTime(timezone=True), nullable=False),
    Column("released_at", UtcDateTime(timezone=True)),
    Column("released_by", String(200)),
    Column("release_reason", Text),
    Index("ix_holds_released", "released_at"),
)
"""Publishing holds asked through the tracker (``publishing.hold`` / ``.release`` on loa.commands.v1)."""


calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("unit", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True, doc="SHA-256 of the key, hex: never the key"),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime(timezone=True), nullable=False),
    Column("revoked_at", UtcDateTime(timezone=True)),
    Column("revoked_by", String(200)),
)
"""The planning calendar's iCalendar feeds: one read-only key per feed, for one unit (``calendar_feeds``)."""


incidents = Table(
    "incidents",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("severity", String(20), nullable=False),
    Column("units", JSON, nullable=False),  # ["Sở Y tế", ...]: the units it covers, children included
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UtcDateTime(timezone=True), nullable=False),
    Column("closed_at", UtcDateTime(timezone=True)),
    Column("closed_by", String(200)),
    Column("close_note", Text),
    Index("ix_incidents_opened", "opened_at"),
)
"""Communication incidents ("Sự cố truyền thông"): what they group is derived by unit and time window."""

incident_notes = Table(
    "incident_notes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("incident_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("at", UtcDateTime(timezone=True), nullable=False),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_incident_notes_incident", "incident_id"),
)

audit_log = audit_table(metadata)
"""The hash-chained audit log (``loa.audit``): the tracker is its only writer."""

channel_accounts = Table(
    "channel_accounts",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("unit", String(200)),
    Column("options", JSON, nullable=False),
    Column("credential_names", JSON, nullable=False, doc="names only: the values go to the publisher"),
    Column("expires_at", UtcDateTime(timezone=True), doc="when its token stops working, if known"),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime(timezone=True), nullable=False),
)
"""Channel accounts as the accounts API last set them (``account.set`` / ``.remove`` on
loa.commands.v1); each publisher keeps the credentials, encrypted, in its own job store."""

engagement_samples = Table(
    "engagement_samples",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("content_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("external_id", String(500), nullable=False),
    Column("unit", String(200), doc="the content's unit when the sample came (reports per unit)"),
    Column("metric", String(32), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("observed_at", UtcDateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "content_id", "channel", "account", "metric", "observed_at", name="uq_engagement_sample"
    ),
    Index("ix_engagement_unit_observed", "unit", "observed_at"),
    Index("ix_engagement_observed", "observed_at"),
)
"""Engagement as a time series, one row per figure per poll (``engagement.observed`` on
loa.engagement.v1, written by the listener); a sample read twice is kept once."""

post_comments = Table(
    "post_comments",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("external_id", String(500), nullable=False, doc="the comment's id on the platform"),
    Column("content_id", String(128), nullable=False),
    Column("post_external_id", String(500), nullable=False),
    Column("unit", String(200)),
    Column("author", String(300), nullable=False, server_default=""),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime(timezone=True), nullable=False),
    Column("observed_at", UtcDateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False, server_default="new"),
    Column("note", Text),
    Column("state_by", String(200)),
    Column("state_at", UtcDateTime(timezone=True)),
    Column("matched", String(200), doc="the watchlist phrase the comment matched, if any"),
    Column(
        "answered_at",
        UtcDateTime(timezone=True),
        doc="when the comment first became answered or hidden (``comments.ANSWERED``), whoever moved it",
    ),
    Column("action_id", String(64), doc="the last reply or moderation sent to the publisher"),
    Column("action_kind", String(16), doc="reply or moderate"),
    Column("action_state", String(16), doc="sending until the publisher's comment.action: done, failed"),
    Column("action_error", Text, doc="why the publisher could not do it"),
    Column("reply_id", String(500), doc="the platform's id of the office's reply"),
    Column("reply_text", Text, doc="the office's reply as sent"),
    UniqueConstraint("channel", "account", "external_id", name="uq_post_comment"),
    Index("ix_post_comments_unit_created", "unit", "created_at"),
    Index("ix_post_comments_content", "content_id", "channel", "created_at"),
)
"""Citizens' comments on published posts (``comments.observed``), each kept once, with the inbox
state an operator gives it."""

watchlists = Table(
    "watchlists",
    metadata,
    Column("unit", String(200), primary_key=True),
    Column("phrases", Text, nullable=False, doc="JSON list of phrases"),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime(timezone=True), nullable=False),
)
"""Each unit's misinformation watchlist; a unit without a row watches ``watch.DEFAULT_PHRASES``."""

watch_alerts = Table(
    "watch_alerts",
    metadata,
    Column("id", String(36), primary_key=True, doc="uuid5 of what raised it: repeats are kept once"),
    Column("kind", String(16), nullable=False, doc="phrase | volume"),
    Column("unit", String(200)),
    Column("content_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("comment_id", BigInteger().with_variant(Integer, "sqlite")),
    Column("raised_at", UtcDateTime(timezone=True), nullable=False),
    Index("ix_watch_alerts_raised", "raised_at"),
)
"""What the watch raised (also sent on the alert webhooks), for the dashboard."""

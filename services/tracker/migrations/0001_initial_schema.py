"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import loa.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts_outbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("hook", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", loa.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("given_up", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("alerts_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_due", ["delivered_at", "given_up", "next_attempt_at"], unique=False)

    op.create_table(
        "content_history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("account", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("content_history", schema=None) as batch_op:
        batch_op.create_index("ix_content_history_content", ["content_id"], unique=False)

    op.create_table(
        "contents",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("publish_at", loa.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("retracted_at", loa.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("retracted_by", sa.String(length=200), nullable=True),
        sa.Column("retract_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contents", schema=None) as batch_op:
        batch_op.create_index("ix_contents_approved", ["approved_at"], unique=False)
        batch_op.create_index("ix_contents_unit_approved", ["unit", "approved_at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=400), nullable=False),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_at", loa.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("public_url", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=20), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", loa.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_channel_account", ["channel", "account"], unique=False)
        batch_op.create_index("ix_deliveries_content", ["content_id"], unique=False)
        batch_op.create_index("ix_deliveries_state_channel", ["state", "channel"], unique=False)

    op.create_table(
        "delivery_history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("delivery_id", sa.String(length=400), nullable=False),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("occurred_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", loa.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("producer", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("public_url", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=20), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_excerpt", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id", "sequence", name="uq_delivery_history_seq"),
    )
    with op.batch_alter_table("delivery_history", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_history_content", ["content_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_history", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_history_content")

    op.drop_table("delivery_history")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_channel")
        batch_op.drop_index("ix_deliveries_content")
        batch_op.drop_index("ix_deliveries_channel_account")

    op.drop_table("deliveries")
    with op.batch_alter_table("contents", schema=None) as batch_op:
        batch_op.drop_index("ix_contents_unit_approved")
        batch_op.drop_index("ix_contents_approved")

    op.drop_table("contents")
    with op.batch_alter_table("content_history", schema=None) as batch_op:
        batch_op.drop_index("ix_content_history_content")

    op.drop_table("content_history")
    with op.batch_alter_table("alerts_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_due")

    op.drop_table("alerts_outbox")

"""comment inbox and misinformation watch: post_comments, watchlists, watch_alerts

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # sa.DateTime(timezone=True) is the DDL of the tables' UTC type: the column is the same either way
    op.create_table(
        "post_comments",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("post_external_id", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False, server_default="new"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state_by", sa.String(length=200), nullable=True),
        sa.Column("state_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matched", sa.String(length=200), nullable=True),
        sa.UniqueConstraint("channel", "account", "external_id", name="uq_post_comment"),
    )
    op.create_index("ix_post_comments_unit_created", "post_comments", ["unit", "created_at"])
    op.create_index("ix_post_comments_content", "post_comments", ["content_id", "channel", "created_at"])
    op.create_table(
        "watchlists",
        sa.Column("unit", sa.String(length=200), primary_key=True),
        sa.Column("phrases", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "watch_alerts",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("comment_id", _ID, nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_watch_alerts_raised", "watch_alerts", ["raised_at"])


def downgrade() -> None:
    op.drop_index("ix_watch_alerts_raised", table_name="watch_alerts")
    op.drop_table("watch_alerts")
    op.drop_table("watchlists")
    op.drop_index("ix_post_comments_content", table_name="post_comments")
    op.drop_index("ix_post_comments_unit_created", table_name="post_comments")
    op.drop_table("post_comments")

"""calendar feeds: per-unit, read-only, revocable keys of the planning calendar's iCalendar feed

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sa.DateTime(timezone=True) is the DDL of the tables' UTC type: the column is the same either way
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")

"""comment_actions: replies to and moderations of citizens' comments, recorded before each call

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sa.DateTime() is the DDL of the job store's UTC type (naive UTC, as its other columns)
    op.create_table(
        "comment_actions",
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("comment_id", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.String(length=500), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("action_id"),
    )


def downgrade() -> None:
    op.drop_table("comment_actions")

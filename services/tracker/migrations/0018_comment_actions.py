"""comment actions: the reply or moderation last sent for each comment, and the publisher's outcome

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ("action_id", "action_kind", "action_state", "action_error", "reply_id", "reply_text")


def upgrade() -> None:
    # Comments kept before this revision have had no action through a publisher: all empty.
    with op.batch_alter_table("post_comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("action_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("action_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("action_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reply_id", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reply_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("post_comments", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

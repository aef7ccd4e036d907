"""comment answered_at: when a comment was first answered or hidden (the report's response times)

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sa.DateTime(timezone=True) is the DDL of the tables' UTC type: the column is the same either way
    with op.batch_alter_table("post_comments") as batch:
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    # before this revision only the latest mark's time was kept: the best known for those answered
    op.execute(
        sa.text("UPDATE post_comments SET answered_at = state_at WHERE state IN ('answered', 'hidden')")
    )


def downgrade() -> None:
    with op.batch_alter_table("post_comments") as batch:
        batch.drop_column("answered_at")

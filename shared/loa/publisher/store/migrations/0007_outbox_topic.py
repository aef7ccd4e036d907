"""outbox.topic: a row may go to another topic than loa.delivery.v1 (loa.payload.v1, what was sent)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows of 0006 have none: they are status events (or comment actions' outcomes) of loa.delivery.v1.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("topic")

"""comment_actions.lease_owner, lease_expires_at: one replica at a time works on an action

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows of 0005 have no lease: free, so a `sending` one is in doubt for whoever meets it (as before).
    with op.batch_alter_table("comment_actions") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comment_actions") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")

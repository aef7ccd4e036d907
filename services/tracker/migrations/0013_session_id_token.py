"""sessions keep the person's ID token, sealed with the session's cookie: the approvals page forwards
it to the ingest, which verifies the person itself

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions opened before this revision have none: their people sign in again to decide approvals.
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("id_token_sealed")

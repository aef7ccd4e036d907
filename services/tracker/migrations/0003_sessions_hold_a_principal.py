"""sessions hold a principal (person or service account, with role grants on units), not a role

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A session of the old shape knows a token's name and role, not the grants of a principal:
    # everyone signs in again once (a session lasts at most a working day anyway).
    op.execute(sa.text("DELETE FROM sessions"))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("role")
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=False))
        batch_op.add_column(sa.Column("display_name", sa.String(length=200), nullable=False))
        batch_op.add_column(sa.Column("grants", sa.JSON(), nullable=False))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM sessions"))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("grants")
        batch_op.drop_column("display_name")
        batch_op.drop_column("kind")
        batch_op.add_column(sa.Column("role", sa.String(length=20), nullable=False))

"""A delivery shows the host it went to: ``deliveries.target_host`` (host[:port] from its status events).

Revision ID: 0007
Revises: 0002

0003 to 0006 are other branches' tracker revisions (sign-in, roles, audit, hold); the integrator
chains this one after the last of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("target_host", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("target_host")

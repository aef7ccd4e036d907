"""who submitted each content and its unit, for the owner and unit checks of updates and retractions

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Contents accepted before stay without owner and unit: only a grant on every unit updates or
    # retracts them (services/ingest/contents.py, _check_owner).
    with op.batch_alter_table("ingest_contents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("unit", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_contents", schema=None) as batch_op:
        batch_op.drop_column("unit")
        batch_op.drop_column("submitted_by")

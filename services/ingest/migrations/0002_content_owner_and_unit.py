"""who submitted each content and its unit (owner and unit checks); versions awaiting approval

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
    op.create_table(
        "ingest_awaiting_approval",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", "version"),
    )
    with op.batch_alter_table("ingest_awaiting_approval", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_awaiting_approval_unit", ["unit"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingest_awaiting_approval", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_awaiting_approval_unit")
    op.drop_table("ingest_awaiting_approval")
    with op.batch_alter_table("ingest_contents", schema=None) as batch_op:
        batch_op.drop_column("unit")
        batch_op.drop_column("submitted_by")

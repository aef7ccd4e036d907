"""holds: the holds this channel knows; each job's unit (a hold may name it) and since when it is held

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sa.DateTime() is the DDL of the job store's UTC type (naive UTC, as its other columns)
    op.create_table(
        "job_holds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("account", sa.String(length=100), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_holds", schema=None) as batch_op:
        batch_op.create_index("ix_job_holds_released", ["released_at"], unique=False)
    # Jobs made before this revision have no unit: a hold of a unit does not cover them (one of all,
    # of their channel or of their account does).
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("held_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("held_at")
        batch_op.drop_column("unit")
    with op.batch_alter_table("job_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_job_holds_released")
    op.drop_table("job_holds")

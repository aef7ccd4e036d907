"""engagement samples: each figure the listener read of a published post, as a time series

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sa.DateTime(timezone=True) is the DDL of the tables' UTC type: the column is the same either way
    op.create_table(
        "engagement_samples",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "content_id", "channel", "account", "metric", "observed_at", name="uq_engagement_sample"
        ),
    )
    op.create_index("ix_engagement_unit_observed", "engagement_samples", ["unit", "observed_at"])
    op.create_index("ix_engagement_observed", "engagement_samples", ["observed_at"])


def downgrade() -> None:
    op.drop_index("ix_engagement_observed", table_name="engagement_samples")
    op.drop_index("ix_engagement_unit_observed", table_name="engagement_samples")
    op.drop_table("engagement_samples")

"""delivery recipients: a list channel's per-recipient outcomes (e-mail), newest report per delivery

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_recipients",
        sa.Column("delivery_id", sa.String(length=400), primary_key=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("delivery_recipients")

"""A correction names the content it corrects: ``contents.corrects`` (indexed, for "corrected by").

Revision ID: 0010
Revises: 0007

0008 and 0009 are other branches' tracker revisions (accounts, incident); the integrator chains
this one after the last of them. Contents recorded before it have none (NULL): a correction
recorded then shows its link from its next event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contents") as batch:
        batch.add_column(sa.Column("corrects", sa.String(length=128), nullable=True))
        batch.create_index("ix_contents_corrects", ["corrects"])


def downgrade() -> None:
    with op.batch_alter_table("contents") as batch:
        batch.drop_index("ix_contents_corrects")
        batch.drop_column("corrects")

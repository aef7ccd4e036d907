"""Retraction is one fact: ``ingest_retractions`` (who, when) replaces ``ingest_contents.retracted``.

The ingest records there its own retractions and those it reads on ``loa.content.v1`` (the
tracker's), so a new version of a content retracted through either door is refused. A content the
previous release marked retracted keeps that fact, dated by its row's last change, by someone it
did not record.

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

UNRECORDED = "(not recorded before release 0.2)"


def upgrade() -> None:
    op.create_table(
        "ingest_retractions",
        sa.Column("content_id", sa.String(length=128), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_by", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("content_id"),
    )
    op.execute(
        sa.text(
            "INSERT INTO ingest_retractions (content_id, retracted_at, retracted_by) "
            "SELECT id, updated_at, :who FROM ingest_contents WHERE retracted"
        ).bindparams(who=UNRECORDED)
    )
    with op.batch_alter_table("ingest_contents") as batch:
        batch.drop_column("retracted")


def downgrade() -> None:
    with op.batch_alter_table("ingest_contents") as batch:
        batch.add_column(sa.Column("retracted", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE ingest_contents SET retracted = "
        "EXISTS (SELECT 1 FROM ingest_retractions r WHERE r.content_id = ingest_contents.id)"
    )
    op.drop_table("ingest_retractions")

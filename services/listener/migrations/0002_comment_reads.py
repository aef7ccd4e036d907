"""comment reads: a row per post and kind of read (figures, comments), each with its own schedule

Revision ID: 0002
Revises: 0001

Posts followed before it get a comments row at the figures' next poll (or stopped with them); from
there the comments follow their own table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = "content_id, version, channel, account, external_id, published_at, next_poll_at, stopped"


def upgrade() -> None:
    with op.batch_alter_table("followed_posts") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="figures"))
        batch.drop_constraint("uq_followed_delivery", type_="unique")
        batch.create_unique_constraint("uq_followed_read", ["content_id", "channel", "account", "kind"])
    op.execute(
        sa.text(
            f"INSERT INTO followed_posts ({COLUMNS}, step, attempt, kind) "  # noqa: S608 - constants only
            f"SELECT {COLUMNS}, 0, 0, 'comments' FROM followed_posts WHERE kind = 'figures'"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM followed_posts WHERE kind <> 'figures'"))
    with op.batch_alter_table("followed_posts") as batch:
        batch.drop_constraint("uq_followed_read", type_="unique")
        batch.create_unique_constraint("uq_followed_delivery", ["content_id", "channel", "account"])
        batch.drop_column("kind")

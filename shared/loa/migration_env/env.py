"""Alembic environment of every store: runs on the connection ``loa.db.migrate`` hands over.

The store's metadata and version table come with it (``loa.db.alembic_config``).
"""

from __future__ import annotations

from alembic import context

attributes = context.config.attributes
context.configure(
    connection=attributes["connection"],
    target_metadata=attributes["metadata"],
    version_table=attributes["version_table"],
    render_as_batch=True,  # SQLite alters a table by copying it: Alembic's batch mode does that
)
with context.begin_transaction():
    context.run_migrations()

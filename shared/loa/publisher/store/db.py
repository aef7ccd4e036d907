"""The job store's database: ``loa.db``'s engine with queued writes, and the store's migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from loa import db
from loa.publisher.store.schema import metadata

MIGRATIONS = db.Migrations(
    folder=Path(__file__).resolve().parent / "migrations",
    metadata=metadata,
    version_table="job_store_alembic_version",
    baseline="0001",  # the tables of the releases that made them with create_all
)


def make_engine(url: str) -> AsyncEngine:
    """A job store's engine: on SQLite, writers queue in the process (see ``loa.db.make_engine``)."""
    return db.make_engine(url, queued_writes=True)


async def migrate(engine: AsyncEngine) -> None:
    """Create the store, or bring it to the latest revision (idempotent; replicas take turns)."""
    await db.migrate(engine, MIGRATIONS)

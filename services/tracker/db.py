"""The tracker's database: ``loa.db``'s engine as the tracker uses SQLite, and its migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from loa import db
from services.tracker.tables import metadata

MIGRATIONS = db.Migrations(
    folder=Path(__file__).resolve().parent / "migrations",
    metadata=metadata,
    version_table="alembic_version",  # Alembic's default: the tracker had migrations from its first release
)


def make_engine(url: str) -> AsyncEngine:
    """The tracker's engine; on SQLite ``synchronous=NORMAL``, as since its first release: fewer
    fsyncs on the consumer's path (a power cut of the host may lose its last transactions)."""
    return db.make_engine(url, synchronous="NORMAL")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    await db.migrate(engine, MIGRATIONS)

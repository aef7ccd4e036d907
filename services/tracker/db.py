"""The tracker's database: its migrations, run on start (the engine is ``loa.db.make_engine``'s)."""

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


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    await db.migrate(engine, MIGRATIONS)

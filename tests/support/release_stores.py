"""Stores as an earlier release left them: its DDL (``releases/``) and raw rows in its forms.

Rows go in through tables reflected from the database, not through today's ``Table`` objects or
stores, so the tests keep describing the old release however the schema moves on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

RELEASES = Path(__file__).resolve().parent / "releases"


async def create_release_store(engine: AsyncEngine, store: str, release: str = "0.1.0") -> None:
    """Run the DDL ``release`` ran to create ``store`` (``job_store`` or ``ingest``)."""
    ddl = (RELEASES / release / f"{store}.{engine.dialect.name}.sql").read_text()
    async with engine.begin() as conn:
        for statement in filter(None, (s.strip() for s in ddl.split(";"))):
            await conn.exec_driver_sql(statement)


async def insert_rows(engine: AsyncEngine, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Insert raw rows (table name → rows) into the tables as the database has them."""

    def insert(conn: Connection) -> None:
        tables = MetaData()
        tables.reflect(conn, only=list(rows))
        for name, table_rows in rows.items():
            conn.execute(tables.tables[name].insert(), [dict(r) for r in table_rows])

    async with engine.begin() as conn:
        await conn.run_sync(insert)


async def snapshot(conn: AsyncConnection) -> dict[str, Any]:
    """Every table's columns, indexes, unique constraints and rows (in primary key order)."""

    def read(sync: Connection) -> dict[str, Any]:
        inspector = inspect(sync)
        tables = MetaData()
        tables.reflect(sync)
        out: dict[str, Any] = {}
        for name, table in sorted(tables.tables.items()):
            out[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ],
                "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
                "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
                "rows": [tuple(r) for r in sync.execute(select(table).order_by(*table.primary_key))],
            }
        return out

    return await conn.run_sync(read)

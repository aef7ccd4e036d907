"""PostgreSQL's bulk insert of many rows in one plan (SQLite's is ``loa.db.upsert`` with rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


async def pg_bulk_insert(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]], tail: str
) -> None:
    """``INSERT ... SELECT * FROM unnest(<one array per column>) <tail>``: one statement, one plan.

    A multi-row ``VALUES`` list is a new statement for every batch size, prepared anew each time;
    arrays keep the statement (and PostgreSQL's plan) the same whatever the batch size.
    """
    if not rows:
        return
    arrays = []
    for i, name in enumerate(columns):
        pg_type = table.c[name].type.compile(dialect=_PG)
        arrays.append(f"CAST(:c{i} AS {pg_type}[])")
    # identifiers come from our own table metadata; every value is a bound parameter
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(arrays)}) {tail}"  # noqa: S608
    params = {f"c{i}": [row.get(name) for row in rows] for i, name in enumerate(columns)}
    await conn.execute(text(sql), params)

"""PostgreSQL's bulk insert of many rows in one plan (SQLite's is ``loa.db.upsert`` with rows)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Column, Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


async def pg_bulk_insert(
    conn: AsyncConnection, table: Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]], tail: str
) -> None:
    """``INSERT ... SELECT * FROM unnest(<one array per column>) <tail>``: one statement, one plan.

    A multi-row ``VALUES`` list is a new statement for every batch size, prepared anew each time;
    arrays keep the statement (and PostgreSQL's plan) the same whatever the batch size.
    """
    if not rows:
        return
    params = {
        f"c{i}": _bound(table.c[name], [row.get(name) for row in rows]) for i, name in enumerate(columns)
    }
    await conn.execute(_unnest_insert(table, columns, tail), params)


def _bound(column: Column[Any], values: list[Any]) -> list[Any]:
    """A column's values as the array binds them: a JSON column's as the text SQLAlchemy's JSON
    type would write (``json.dumps``, the engine's default; ``None`` JSON's ``null`` unless the
    column says ``none_as_null``) — a text statement applies no column type of its own."""
    kind = column.type
    if not isinstance(kind, JSON):
        return values
    return [None if v is None and kind.none_as_null else json.dumps(v) for v in values]


@functools.cache
def _unnest_insert(table: Table, columns: tuple[str, ...], tail: str) -> TextClause:
    """Built once per table and tail: compiling the column types took ~9 % of the tracker's CPU at
    a steady 500 status events/s, when every small batch built it anew (py-spy, docs/benchmarks.md)."""
    arrays = [f"CAST(:c{i} AS {table.c[name].type.compile(dialect=_PG)}[])" for i, name in enumerate(columns)]
    # identifiers come from our own table metadata; every value is a bound parameter
    return text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(arrays)}) {tail}"  # noqa: S608
    )

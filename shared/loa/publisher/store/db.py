"""The job store's engine: SQLite (one writer at a time, WAL) or PostgreSQL, tables created on start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from loa.publisher.store.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

SQLITE_BUSY_TIMEOUT_S = 30


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def upsert_for(engine: AsyncEngine) -> Callable[[Table], SqliteInsert | PgInsert]:
    """The engine's dialect's ``insert`` (it has ``on_conflict_do_*``)."""
    # Imported here: the PostgreSQL dialect costs 5 MB a SQLite job store never uses.
    if is_sqlite(engine):
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert


def make_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite, every transaction is ``BEGIN IMMEDIATE`` so writers queue, not fail."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=10, max_overflow=5, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # One connection per process: SQLite has one writer anyway (and every transaction here is
    # BEGIN IMMEDIATE), and connections of one process contending for its lock wait in SQLite's
    # busy handler, which sleeps 1-100 ms per retry. Queued on the pool instead, they go in turn.
    # Nothing holds a connection while asking for another (a second would wait for the first).
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=1,
        max_overflow=0,
        pool_timeout=SQLITE_BUSY_TIMEOUT_S * 2,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()
        _run_inline(dbapi_connection._connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _run_inline(connection: Any) -> None:
    """Run the statements of this aiosqlite connection in the event loop's thread; commit in its own.

    aiosqlite hands every call (each statement, fetch, commit) to a worker thread and back: two
    thread wake-ups per call, 10-20 calls per transaction. On a busy machine each wake-up waits
    for a time slice: a transaction took ~100 ms of waiting for ~2 ms of SQLite work. Statements
    run inline now (microseconds each, in WAL mode); the commit, which waits for the fsync, still
    goes to the worker thread so the loop goes on meanwhile. The one statement that could wait
    long inline, ``BEGIN IMMEDIATE`` while another process (``loa accounts ...``) writes, is
    bounded by ``busy_timeout`` and only happens while such a command writes.
    """
    in_thread = connection._execute
    raw = connection._conn  # the sqlite3 connection: only its commit (and close) may wait

    async def execute(fn: Any, *args: Any, **kwargs: Any) -> Any:
        # Not by name alone: every cursor's ``close`` would hop too (once per statement).
        if getattr(fn, "__self__", None) is raw and fn.__name__ in ("commit", "close"):
            return await in_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    connection._execute = execute


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)

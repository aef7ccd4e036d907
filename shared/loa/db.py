"""Persistence every store shares: the engine, the UTC timestamp column, upserts and migrations.

Three stores use it: the publishers' job store (``loa.publisher.store``), the tracker's view and
the ingest's records. Each is SQLite by default (one file, WAL) or PostgreSQL (asyncpg), and each
brings its schema to its latest Alembic revision when it starts (``migrate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    String,
    Table,
    TypeDecorator,
    column,
    create_engine,
    event,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from loa.files import private_file
from loa.sqlite_inline import InlineEngine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30
MIGRATION_ENV = Path(__file__).resolve().parent / "migration_env"
"""Alembic's ``env.py`` and revision template, one for every store (each has its own revisions)."""


# ---- engine -----------------------------------------------------------------------------------


def make_engine(
    url: str, *, synchronous: Literal["FULL", "NORMAL"] = "FULL", queued_writes: bool = False
) -> AsyncEngine:
    """An async engine: PostgreSQL by URL, or SQLite in WAL mode (readers never block the writer).

    ``synchronous`` is SQLite's: ``FULL`` (its default) keeps every committed transaction through
    a power cut; ``NORMAL`` syncs less and may lose the last ones then (never corrupting the file).
    ``queued_writes`` is the job store's SQLite: one connection per process, every transaction
    ``BEGIN IMMEDIATE`` (writers queue, never fail on a lock taken mid-transaction) and statements
    run inline (``loa.sqlite_inline``). Otherwise a pool of connections, with the driver's ``BEGIN`` at
    the first write: the tracker's and the ingest's readers never wait for a writer.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=10, max_overflow=5, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        # Private from the first byte (SQLite would create it with the umask's mode, often 0644);
        # its -wal and -shm files take the database file's mode (loa.files).
        private_file(Path(parsed.database))
    if not queued_writes:
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _on_connect(engine.sync_engine, synchronous=synchronous, inline=False)
        return engine
    # One connection per process: SQLite has one writer anyway (and every transaction here is
    # BEGIN IMMEDIATE), and connections of one process contending for its lock wait in SQLite's
    # busy handler, which sleeps 1-100 ms per retry. Taken in turn instead (loa.sqlite_inline).
    # Nothing holds the connection while asking for it again (it would wait for itself).
    sync_engine = create_engine(
        parsed.set(drivername="sqlite"),  # pysqlite: the statements run inline, not through aiosqlite
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
    )
    _on_connect(sync_engine, synchronous=synchronous, inline=True)

    @event.listens_for(sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    # AsyncEngine's face for what the stores use (loa.sqlite_inline), not the class itself.
    return cast(AsyncEngine, InlineEngine(sync_engine, turn_timeout_s=SQLITE_BUSY_TIMEOUT_S * 2))


def _on_connect(engine: Engine, *, synchronous: str, inline: bool) -> None:
    """On each new SQLite connection: WAL, ``synchronous``, the busy timeout; with ``inline`` (the
    job store's), transaction control is taken from the driver so ``BEGIN IMMEDIATE`` is ours."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if inline:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _switch_to_wal(cursor)
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the lock it needs.

    Switching a new file to WAL upgrades a shared lock to an exclusive one. When two processes
    open the file together (replicas starting at once), each holds its shared lock and waits for
    the other's: SQLite sees the deadlock and answers one of them SQLITE_BUSY at once, without
    calling the busy handler ("If SQLite determines that invoking the busy handler could result
    in a deadlock, it will go ahead and return SQLITE_BUSY", sqlite.org/c3ref/busy_handler.html).
    The other switches the file; this one, tried again, finds it in WAL mode already. Connections
    are made at start and after a failure, so the short blocking sleeps here cost nothing later.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as e:  # the driver's OperationalError, adapted or not by SQLAlchemy
            if "database is locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# ---- statements and columns -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def transaction(bind: AsyncEngine | AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """A transaction of its own on an engine; on a connection, the caller's (its writes join it)."""
    if isinstance(bind, AsyncEngine | InlineEngine):
        async with bind.begin() as conn:
            yield conn
        return
    yield bind


def is_sqlite(bind: AsyncEngine | AsyncConnection) -> bool:
    return bind.dialect.name == "sqlite"


def upsert(bind: AsyncEngine | AsyncConnection, table: Table) -> SqliteInsert | PgInsert:
    """An ``INSERT`` of the bind's dialect: it has ``on_conflict_do_nothing`` / ``_do_update``."""
    return dialect_insert(is_sqlite(bind), table)


def dialect_insert(sqlite: bool, table: Table) -> SqliteInsert | PgInsert:
    """``upsert`` for a statement built once and kept (it holds no bind)."""
    # Imported here: the PostgreSQL dialect costs 5 MB a SQLite store never uses.
    if sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL.

    SQLite stores both kinds as the same naive UTC text. On PostgreSQL ``UtcDateTime()`` is a
    ``TIMESTAMP WITHOUT TIME ZONE`` holding naive UTC (the job store's columns) and
    ``UtcDateTime(timezone=True)`` a ``TIMESTAMP WITH TIME ZONE`` (the tracker's, the ingest's):
    each store's columns keep the type and the stored form its earlier releases wrote.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self, timezone: bool = False) -> None:
        super().__init__(timezone=timezone)
        self.timezone = timezone

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a store")
        value = value.astimezone(UTC)
        return value if self.timezone and dialect.name != "sqlite" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_aggregate(value: Any) -> datetime | None:
    """An aggregate of a ``UtcDateTime`` column (``MIN``, ``MAX``) as an aware UTC time: SQLAlchemy
    does not apply the column type to it, and SQLite returns it as text."""
    if isinstance(value, str):  # pragma: no cover - SQLite returns aggregates as text
        value = datetime.fromisoformat(value)
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---- migrations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migrations:
    """A store's revisions and the table its database records the applied one in."""

    folder: Path
    """Its Alembic revisions (the environment and the template are ``MIGRATION_ENV``)."""
    metadata: MetaData
    """The tables as the code has them: what the latest revision makes (autogenerate compares)."""
    version_table: str
    """Its own, so stores may share a database."""
    baseline: str | None = None
    """The revision that makes the schema of the release before the store had migrations: such a
    store (its tables, no version table) is stamped with it, then upgraded."""


INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE of a refused privilege (postgresql.org/docs/15/errcodes-appendix.html)."""

_MIGRATING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
"""Alembic's ``op`` and ``context`` are globals of the process: two migrations interleaving on one
event loop would run one's operations on the other's connection. So one at a time per loop."""


async def migrate(engine: AsyncEngine, migrations: Migrations) -> None:
    """Bring the store to its latest revision (idempotent), in one transaction.

    On PostgreSQL a transaction-level advisory lock makes replicas starting together take turns:
    the second finds the store upgraded. (On SQLite a ``queued_writes`` engine's ``BEGIN
    IMMEDIATE`` does the same.)
    """
    if await _at_head(engine, migrations):
        return
    turn = _MIGRATING.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    try:
        async with turn, engine.begin() as conn:
            if not is_sqlite(conn):
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext('loa.db.migrate'), hashtext(:table))"),
                    {"table": migrations.version_table},
                )
            await conn.run_sync(_upgrade, migrations)
    except DBAPIError as e:
        if getattr(e.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise PermissionError(
            f"{migrations.version_table}: the store needs a migration and {engine.url.username!r} may not "
            "change its schema (a runtime role has DML rights only): run the migrations as the owner "
            "role first (python deploy/local/storage_users.py migrate; docs/security.md)"
        ) from e


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@functools.cache
def head_revision(folder: Path) -> str | None:
    """The one revision of ``folder`` no other revision follows, read from the files' assignments
    (``revision = "0006"``, ``down_revision = "0005"``) without Alembic; None when the files say
    anything else (a merge, a branch, a computed value): then Alembic decides."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in folder.glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        quoted = re.fullmatch(r"""(["'])(\w+)\1""", found["revision"])
        below = found.get("down_revision", "None")
        quoted_below = re.fullmatch(r"""(["'])(\w+)\1""", below)
        if quoted is None or (below != "None" and quoted_below is None):
            return None
        revisions.add(quoted.group(2))
        if quoted_below is not None:
            followed.add(quoted_below.group(2))
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


async def _at_head(engine: AsyncEngine, migrations: Migrations) -> bool:
    """Whether the store is at its latest revision already: a service then starts without importing
    Alembic (~6 MB resident it would keep, bench/rss.py; issue #20's 120 MB). In production the
    migrations run before the services start (the Helm chart's job), and a restart finds its store
    upgraded."""
    head = head_revision(migrations.folder)
    if head is None:
        return False
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda sync: inspect(sync).has_table(migrations.version_table)):
            return False
        versions = select(column("version_num", String)).select_from(table(migrations.version_table))
        found = (await conn.execute(versions)).scalars().all()
    return list(found) == [head]


def alembic_config(connection: Connection, migrations: Migrations) -> Config:
    """The configuration ``migration_env/env.py`` runs with: this store's revisions on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATION_ENV))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(migrations.folder))
    config.attributes.update(
        connection=connection, metadata=migrations.metadata, version_table=migrations.version_table
    )
    return config


def _upgrade(connection: Connection, migrations: Migrations) -> None:
    from alembic import command

    config = alembic_config(connection, migrations)
    if migrations.baseline and _is_unversioned_baseline(connection, migrations):
        log.info(
            "%s: a store made before migrations, stamped %s", migrations.version_table, migrations.baseline
        )
        command.stamp(config, migrations.baseline)
    command.upgrade(config, "head")


def _is_unversioned_baseline(connection: Connection, migrations: Migrations) -> bool:
    """Whether the store was made before it had migrations: the baseline's tables, no version table.

    A database with none of them is a new store (``upgrade`` makes it). One with only some, or
    with other columns, is neither: guessing its revision could lose data, so it is refused.
    """
    inspector = inspect(connection)
    if inspector.has_table(migrations.version_table):
        return False
    expected = _baseline_shape(migrations)
    present = expected.keys() & set(inspector.get_table_names())
    if not present:
        return False
    found = {name: frozenset(c["name"] for c in inspector.get_columns(name)) for name in present}
    if found != expected:
        raise RuntimeError(
            f"the store has no {migrations.version_table} and its tables are not those of revision "
            f"{migrations.baseline} (expected {sorted(expected)}, found {sorted(found)} with other "
            "columns or some missing): upgrade it by hand, or stamp it if it is that revision"
        )
    return True


@functools.cache
def _baseline_shape(migrations: Migrations) -> dict[str, frozenset[str]]:
    """The tables and columns the baseline revision makes, read from a scratch in-memory SQLite."""
    from alembic import command
    from sqlalchemy import create_engine

    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            assert migrations.baseline is not None
            command.upgrade(alembic_config(connection, migrations), migrations.baseline)
            inspector = inspect(connection)
            return {
                name: frozenset(c["name"] for c in inspector.get_columns(name))
                for name in inspector.get_table_names()
                if name != migrations.version_table
            }
    finally:
        scratch.dispose()

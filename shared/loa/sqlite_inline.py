"""The job store's SQLite engine: one synchronous connection, statements inline, commits off the loop.

A job store on SQLite is one file with one writer (``BEGIN IMMEDIATE``), so ``loa.db.make_engine``
gives it one connection per process. Through SQLAlchemy's asyncio layer and aiosqlite every
statement, fetch and cursor went through a greenlet switch and aiosqlite's wrappers: a transaction
that claims nothing cost 0.47 ms of CPU, the same on SQLAlchemy's synchronous engine 0.29 ms
(``bench/job_store.py``; docs/benchmarks.md, "Session 30"). Here the synchronous engine runs the
statements in the event loop's thread (microseconds each in WAL mode), and the commit, which waits
for the fsync, in a thread of its own so the loop goes on meanwhile.

``InlineEngine`` and ``InlineConnection`` have the face of ``AsyncEngine`` and ``AsyncConnection``
for what the stores use (``connect``, ``begin``, ``dispose``; ``execute``, ``exec_driver_sql``,
``commit``, ``rollback``, ``run_sync``); results are SQLAlchemy's own. Callers take turns for the one
connection on an ``asyncio.Lock``, as they queued on a pool of one before: nothing may hold a
connection while asking for another.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import URL, Connection, CursorResult, Dialect, Engine, Result
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

P = ParamSpec("P")
T = TypeVar("T")


class InlineEngine:
    """One synchronous SQLite connection shared in turn by the tasks of one event loop."""

    def __init__(self, sync_engine: Engine, *, turn_timeout_s: float) -> None:
        self.sync_engine = sync_engine
        self.dialect: Dialect = sync_engine.dialect
        self.url: URL = sync_engine.url
        self.turn_timeout_s = turn_timeout_s
        self._turn = asyncio.Lock()
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-commit")
        self._kept: Connection | None = None

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[InlineConnection]:
        """The connection, when the task before has given it back (its transaction, if it began
        one and did not commit, is rolled back)."""
        try:
            async with asyncio.timeout(self.turn_timeout_s):
                await self._turn.acquire()
        except TimeoutError as e:  # as a pool of one would after its timeout
            raise PoolTimeoutError(
                f"the job store's connection was not given back within {self.turn_timeout_s:.0f} s"
            ) from e
        try:
            connection = InlineConnection(self, self._connection())
            try:
                yield connection
            finally:
                self._give_back(connection.sync_connection)
        finally:
            self._turn.release()

    def _connection(self) -> Connection:
        """The one connection, kept from turn to turn: checking it out of a pool of one and
        resetting it on return cost more than most statements do (``bench/job_store.py``)."""
        if self._kept is None or self._kept.closed:
            self._kept = self.sync_engine.connect()
        return self._kept

    def _give_back(self, connection: Connection) -> None:
        """End the turn as a pool's return would: a transaction left open is rolled back; a
        connection SQLAlchemy found broken (invalidated) is closed, and the next turn opens anew."""
        try:
            if connection.invalidated:
                connection.close()
            elif connection.in_transaction():
                connection.rollback()
        except Exception:
            connection.invalidate()
            connection.close()
            raise

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[InlineConnection]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        async with self.connect() as connection:
            connection.sync_connection.begin()
            yield connection
            await connection.commit()

    async def off_loop(self, fn: Callable[[], T]) -> T:
        """``fn`` in the engine's own thread (the commit's: never behind the SDK calls' threads).

        A thread cannot be stopped: if the caller is cancelled meanwhile, it still waits for ``fn``
        to end before the cancellation goes on, so the connection is never given back (and used by
        the next task) while ``fn`` still works on it."""
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._committer, fn)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            await asyncio.wait([running])
            raise

    async def dispose(self) -> None:
        """Close the connection once no turn holds it (a pool's dispose left a checked-out one to
        its holder too), then the engine's pool."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.turn_timeout_s), self._turn:
                if self._kept is not None:
                    self._kept.close()
                    self._kept = None
        self.sync_engine.dispose()


class InlineConnection:
    """The engine's connection for one task's turn."""

    def __init__(self, engine: InlineEngine, sync_connection: Connection) -> None:
        self.engine = engine
        self.sync_connection = sync_connection
        self.dialect: Dialect = sync_connection.dialect
        driver = sync_connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver = driver
        self._changes = self._driver.total_changes

    async def execute(
        self, statement: Any, parameters: Any = None, *, execution_options: dict[str, Any] | None = None
    ) -> Result[Any]:
        """Run in the loop's thread. Rows are read at once, as ``AsyncConnection`` reads them: a
        result may be read after the turn, and SQLite's cursor would not survive the next one's."""
        return _read(self.sync_connection.execute(statement, parameters, execution_options=execution_options))

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Result[Any]:
        return _read(self.sync_connection.exec_driver_sql(statement, parameters))

    async def commit(self) -> None:
        """Commit off the loop: the fsync waits for the disk, the loop does not. A transaction that
        changed no row (a claim that found nothing, a read) has nothing to sync: committed inline."""
        if not self.sync_connection.in_transaction():
            return
        if self._driver.total_changes == self._changes:
            self.sync_connection.commit()
        else:
            await self.engine.off_loop(self.sync_connection.commit)
        self._changes = self._driver.total_changes

    async def rollback(self) -> None:
        self.sync_connection.rollback()

    async def run_sync(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return fn(self.sync_connection, *args, **kwargs)


def _read(result: CursorResult[Any]) -> Result[Any]:
    """The result with its rows read (a statement that returns none keeps its ``rowcount``)."""
    return result.freeze()() if result.returns_rows else result

"""The SQLite job store's engine (``loa.sqlite_inline``): statements in the event loop's thread, a
commit that wrote in a thread of its own, one connection taken in turn."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from loa.publisher.store.db import make_engine
from loa.sqlite_inline import InlineEngine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Any]:
    """A job store's engine on a new file, with a table ``t (a INTEGER)``."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    assert isinstance(engine, InlineEngine)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (a INTEGER)"))
    yield engine
    await engine.dispose()


async def count(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())


async def test_statements_run_in_the_loop_and_only_a_commit_that_wrote_leaves_it(engine: Any) -> None:
    seen: list[tuple[str, str]] = []  # (statement or COMMIT, the thread it ran in)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append((statement.split()[0], threading.current_thread().name))

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(conn: Any) -> None:
        seen.append(("COMMIT", threading.current_thread().name))

    loop = threading.current_thread().name
    async with engine.begin() as conn:
        for n in range(3):
            await conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": n})
    async with engine.begin() as conn:  # reads only, like a claim that finds nothing due
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3
    wrote, read = seen[:5], seen[5:]
    assert wrote[:4] == [("BEGIN", loop)] + [("INSERT", loop)] * 3
    assert wrote[4][0] == "COMMIT" and wrote[4][1].startswith("sqlite-commit")  # the fsync, off the loop
    assert read == [("BEGIN", loop), ("SELECT", loop), ("COMMIT", loop)]  # nothing to sync


async def test_a_result_is_read_after_the_turn_and_a_failed_block_rolls_back(engine: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1), (2)"))
        result = await conn.execute(text("SELECT a FROM t ORDER BY a"))

    async def failing_block() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (3)"))
            raise RuntimeError("the block failed")

    with pytest.raises(RuntimeError):
        await failing_block()
    assert await count(engine) == 2
    assert result.scalars().all() == [1, 2]


async def test_tasks_take_the_connection_in_turn(engine: Any) -> None:
    inside = 0
    most_inside = 0

    async def writer(n: int) -> None:
        nonlocal inside, most_inside
        async with engine.begin() as conn:
            inside += 1
            most_inside = max(most_inside, inside)
            await conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": n})
            await asyncio.sleep(0)  # another task runs meanwhile: it must wait for the turn
            inside -= 1

    await asyncio.gather(*(writer(n) for n in range(20)))
    assert most_inside == 1
    assert await count(engine) == 20


async def test_waiting_too_long_for_the_turn_fails_as_a_pool_timeout(engine: Any) -> None:
    engine.turn_timeout_s = 0.2
    async with engine.connect():
        with pytest.raises(PoolTimeoutError, match="not given back"):
            async with engine.connect():
                pass


async def test_a_cancelled_commit_ends_before_the_next_task_takes_the_connection(engine: Any) -> None:
    order: list[str] = []

    @event.listens_for(engine.sync_engine, "commit")
    def _slow_commit(conn: Any) -> None:  # in the commit thread: a slow disk
        if threading.current_thread().name.startswith("sqlite-commit"):
            time.sleep(0.3)
            order.append("first commit ends")

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))

    async def second() -> None:
        async with engine.begin() as conn:
            order.append("second begins")
            await conn.execute(text("SELECT 1"))

    writing = asyncio.create_task(first())
    await asyncio.sleep(0.1)  # its commit is in the thread now
    writing.cancel()
    following = asyncio.create_task(second())
    with pytest.raises(asyncio.CancelledError):
        await writing
    await following
    assert order == ["first commit ends", "second begins"]
    assert await count(engine) == 1  # the commit went through: the cancelled caller must not assume otherwise


async def test_the_connection_is_kept_from_turn_to_turn_and_a_broken_one_replaced(engine: Any) -> None:
    """Issue #20: a pool's checkout, and its reset on return, cost more than most statements: the
    one connection stays open. What a return did is still done: a transaction a turn left open is
    rolled back, and a connection SQLAlchemy invalidated gives way to a new one."""
    checkouts: list[int] = []

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, *args: Any) -> None:
        checkouts.append(id(dbapi_connection))

    for n in range(5):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": n})
    async with engine.connect() as conn:  # began (a read), neither committed nor rolled back
        await conn.execute(text("INSERT INTO t VALUES (99)"))
    assert await count(engine) == 5
    assert checkouts == []  # the connection the fixture's turn opened, every time

    async with engine.connect() as conn:
        conn.sync_connection.invalidate()  # as SQLAlchemy does on an error that broke it
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (5)"))
    assert await count(engine) == 6
    assert len(checkouts) == 1  # a new one, then kept
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 6
    assert len(checkouts) == 1

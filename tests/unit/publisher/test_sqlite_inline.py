"""The SQLite job store runs statements in the event loop's thread; only a commit waits in
aiosqlite's worker thread (each hand-off is two thread wake-ups, see ``loa.db._run_inline``)."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

from sqlalchemy import text

from loa.publisher.store.db import make_engine


class CountingQueue:
    """aiosqlite's hand-off queue, counting what the event loop hands to the worker thread."""

    def __init__(self, inner: queue.SimpleQueue[Any]) -> None:
        self.inner = inner
        self.handed: list[str] = []

    def put_nowait(self, item: Any) -> None:
        self.handed.append(getattr(item[1], "func", item[1]).__name__)
        self.inner.put_nowait(item)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.get(*args, **kwargs)


async def test_only_the_commit_of_a_transaction_goes_to_the_worker_thread(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER)"))
            raw: Any = (await conn.get_raw_connection()).driver_connection
        counting = CountingQueue(raw._tx)
        raw._tx = counting
        for _ in range(3):
            async with engine.begin() as conn:
                for n in range(5):
                    await conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": n})
                rows = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert rows == 15
        assert counting.handed == ["commit"] * 3
    finally:
        await engine.dispose()

"""One holder at a time across the replicas of a publisher: named locks.

The credentials lock (per account): channels whose credentials rotate (a single-use refresh
token) refresh under it, so two replicas never present the same refresh token. The holds lock
(per channel): a hold or release and a pull-back from the platform never interleave.
PostgreSQL: a session advisory lock. SQLite (replicas on one host): an exclusive ``flock`` on a
file beside the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.db import is_sqlite


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def credentials_lock(engine: AsyncEngine, channel: str, account: str) -> AbstractAsyncContextManager[None]:
    return named_lock(engine, f"loa-credentials:{channel}/{account}")


def holds_lock(engine: AsyncEngine, channel: str) -> AbstractAsyncContextManager[None]:
    return named_lock(engine, f"loa-holds:{channel}")


@contextlib.asynccontextmanager
async def named_lock(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    if not is_sqlite(engine):
        async with engine.connect() as conn:
            key = lock_key(name)
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    database = make_url(str(engine.url)).database or ":memory:"
    folder = Path(database).parent if database != ":memory:" else Path(".loa/data")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".lock-{lock_key(name) & 0xFFFFFFFF:08x}.lock"
    with path.open("a") as handle:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

"""A SQLite store is private (0600, its folder 0700) from the first byte, its WAL files too."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from loa import db

pytestmark = pytest.mark.unit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_store_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "publisher-facebook.db"

    wal = Path(f"{path}-wal")

    async def write() -> int:
        engine = db.make_engine(f"sqlite+aiosqlite:///{path}", queued_writes=True)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (title TEXT)"))
                await conn.execute(text("INSERT INTO t VALUES ('Đà Nẵng')"))
            return await asyncio.to_thread(mode, wal)  # while it exists (the last close removes it)
        finally:
            await engine.dispose()

    assert asyncio.run(write()) == 0o600
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700

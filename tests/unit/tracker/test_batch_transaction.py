"""The tracker writes a batch of the status and content subscriber in one transaction
(``consumer.register``'s ``on_flow``): its contents, status events and comment outcomes commit
together, or, when a write fails, none of them does and the batch is consumed again whole
(``loa.db.transaction``: on a connection, a writer joins the caller's transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import DeliveryState as S
from services.tracker import comment_actions
from services.tracker.db import make_engine, migrate
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.tables import contents, deliveries, delivery_history
from tests.integration.tracker.support import approved, status

pytestmark = pytest.mark.unit
TARGET = ("facebook", "so-ttt-da-nang")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    await migrate(made)
    yield made
    await made.dispose()


async def rows(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        counted = [
            await conn.scalar(select(func.count()).select_from(t))
            for t in (contents, deliveries, delivery_history)
        ]
    return tuple(int(n or 0) for n in counted)  # type: ignore[return-value]


async def write_batch(engine: AsyncEngine, content_id: str, fail: bool) -> None:
    async with engine.begin() as conn:
        await apply_content_events(conn, [approved(content_id, [TARGET])])
        await apply_statuses(conn, [status(content_id, *TARGET, S.PUBLISHING, 1)])
        await comment_actions.settle(conn, [])
        if fail:
            raise RuntimeError("the database went away before the commit")


async def test_a_failed_batch_leaves_none_of_its_writes(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        await write_batch(engine, "thong-cao-bao-chi-so-12", fail=True)
    assert await rows(engine) == (0, 0, 0)


async def test_a_batch_commits_its_contents_and_statuses_together(engine: AsyncEngine) -> None:
    await write_batch(engine, "thong-cao-bao-chi-so-12", fail=False)
    assert await rows(engine) == (1, 1, 1)  # the content, its delivery (now publishing), one event
    async with engine.connect() as conn:
        assert await conn.scalar(select(deliveries.c.state)) == S.PUBLISHING.value

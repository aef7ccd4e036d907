"""Posts' progress saves that meet share a transaction, and each caller is back only once its own
save is committed (``loa/publisher/progress.py``), on a real SQLite job store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from loa.channels import Post
from loa.events import DeliveryState as S
from loa.events import utcnow
from loa.publisher.progress import ProgressWrites
from loa.publisher.store import codec
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import jobs

pytestmark = pytest.mark.unit


@pytest.fixture
async def store(tmp_path: Path) -> JobStore:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(engine)
    return JobStore(engine, "tin")


def _post(n: int) -> Post:
    return Post(content_id=f"c{n}", version=1, channel="tin", account="a", marker=f"m{n}", texts=["Đà Nẵng"])


async def _create(store: JobStore, posts: list[Post]) -> None:
    async with store.tx() as conn:
        for post in posts:
            await store.create(
                conn,
                content_id=post.content_id,
                version=1,
                account="a",
                post=post,
                state=S.SCHEDULED,
                due_at=utcnow(),
            )


async def _stored_progress(store: JobStore) -> dict[str, dict[str, Any]]:
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(jobs.c.content_id, jobs.c.post))).all()
    return {r.content_id: codec.post_from_json(r.post).progress for r in rows}


def _count_commits(store: JobStore) -> list[int]:
    commits: list[int] = []
    event.listen(store.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_saves_that_meet_share_a_transaction_and_each_is_durable_on_return(store: JobStore) -> None:
    posts = [_post(n) for n in range(20)]
    await _create(store, posts)
    commits = _count_commits(store)
    writes = ProgressWrites(store)
    for n, post in enumerate(posts):
        post.progress = {"tweet_ids": [str(1000 + n)], "note": "Đã đăng phần 1"}
    await asyncio.gather(*(writes.save(post) for post in posts))
    assert 1 <= len(commits) <= 2  # the first alone, the 19 that came meanwhile together
    stored = await _stored_progress(store)
    assert {cid: p["tweet_ids"] for cid, p in stored.items()} == {f"c{n}": [str(1000 + n)] for n in range(20)}


async def test_a_save_alone_is_written_at_once(store: JobStore) -> None:
    post = _post(1)
    await _create(store, [post])
    post.progress = {"media_ids": ["m-1"]}
    await asyncio.wait_for(ProgressWrites(store).save(post), timeout=5)
    assert (await _stored_progress(store))["c1"] == {"media_ids": ["m-1"]}


async def test_the_progress_is_taken_when_the_save_is_asked_and_the_later_save_of_a_post_wins(
    store: JobStore,
) -> None:
    post, other = _post(1), _post(2)
    await _create(store, [post, other])
    writes = ProgressWrites(store)
    other.progress = {"step": 1}
    first = asyncio.create_task(writes.save(other))  # being written while the next saves come
    await asyncio.sleep(0)
    post.progress = {"step": 1}
    one = asyncio.create_task(writes.save(post))
    await asyncio.sleep(0)
    post.progress = {"step": 2}
    two = asyncio.create_task(writes.save(post))
    await asyncio.sleep(0)
    post.progress = {"step": 3}  # changed after its last save: not written
    await asyncio.gather(first, one, two)
    assert (await _stored_progress(store))["c1"] == {"step": 2}


async def test_a_failed_transaction_fails_every_save_in_it(store: JobStore) -> None:
    posts = [_post(n) for n in range(3)]
    await _create(store, posts)
    writes = ProgressWrites(store)
    await store.engine.dispose()

    def refuse(*_: Any) -> None:
        raise OSError("disk I/O error")

    event.listen(store.engine.sync_engine, "before_cursor_execute", refuse)
    results = await asyncio.gather(*(writes.save(p) for p in posts), return_exceptions=True)
    assert [type(r) for r in results] == [OSError] * 3
    event.remove(store.engine.sync_engine, "before_cursor_execute", refuse)
    await writes.save(posts[0])  # the writer goes on after a failure
    assert (await _stored_progress(store))["c0"] == posts[0].progress

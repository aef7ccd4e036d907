"""Posts' progress written to the job store, the saves that meet in one transaction.

An adapter saves a post's progress (an upload session, a media id, the posts of a thread already
out) and goes on only once it is durable. Each save was a transaction of its own: a statement, a
commit and its wait for the disk, with the store's one writer held meanwhile. Here a save that
arrives while others are being written waits for the next transaction, which writes every save
waiting then (one ``UPDATE`` run for many rows, one commit); each caller is back once the
transaction holding its save has committed, so what it relies on is unchanged: returned means
durable. Nothing waits on purpose: alone, a save is written at once.

Two saves of one post in one transaction write the later one (its dict key is the post's row).
A failed transaction fails every save in it, each caller sees the error (a store outage is handled
by ``RuntimeContext.save_progress``, as before).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import bindparam, update

from loa.channels import Post
from loa.events import utcnow
from loa.publisher.store import codec
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import jobs

Row = tuple[str, int, str, str]
"""(content id, version, channel, account): one job of the store (unique)."""

_WRITE = (
    update(jobs)
    .where(
        jobs.c.content_id == bindparam("row_content_id"),
        jobs.c.version == bindparam("row_version"),
        jobs.c.channel == bindparam("row_channel"),
        jobs.c.account == bindparam("row_account"),
    )
    .values(post=bindparam("row_post"), updated_at=bindparam("row_updated_at"))
)


@dataclass
class _Save:
    document: str
    """The post as JSON, taken when the save was asked for (the adapter goes on changing it)."""
    waiting: list[asyncio.Future[None]] = field(default_factory=list)


class ProgressWrites:
    """One job store's progress saves, written a transaction at a time by one task."""

    def __init__(self, store: JobStore) -> None:
        self._store = store
        self._next: dict[Row, _Save] = {}
        self._writer: asyncio.Task[None] | None = None

    async def save(self, post: Post) -> None:
        """Return once ``post``'s progress is committed; raise what the transaction raised."""
        row = (post.content_id, post.version, post.channel, post.account)
        done = asyncio.get_running_loop().create_future()
        save = self._next.get(row)
        if save is None:
            save = self._next[row] = _Save(codec.post_to_json(post))
        else:
            save.document = codec.post_to_json(post)
        save.waiting.append(done)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="progress-writes")
        await done

    async def _write_all(self) -> None:
        """Write what waits, a transaction at a time, until nothing does."""
        saves: dict[Row, _Save] = {}
        try:
            while self._next:
                saves, self._next = self._next, {}
                try:
                    await self._write(saves)
                except Exception as e:
                    _settle(saves, e)
                else:
                    _settle(saves, None)
        finally:  # cancelled (the publisher stops): no caller is left waiting for a writer gone
            for left in (saves, self._next):
                _settle(left, asyncio.CancelledError())
            self._next = {}

    async def _write(self, saves: dict[Row, _Save]) -> None:
        now = utcnow()
        params = [
            {
                "row_content_id": content_id,
                "row_version": version,
                "row_channel": channel,
                "row_account": account,
                "row_post": save.document,
                "row_updated_at": now,
            }
            for (content_id, version, channel, account), save in saves.items()
        ]
        async with self._store.tx() as conn:
            await conn.execute(_WRITE, params)


def _settle(saves: dict[Row, _Save], error: BaseException | None) -> None:
    """Each caller still waiting on ``saves`` back: with ``error``, or its save written."""
    for save in saves.values():
        for done in save.waiting:
            if done.done():
                continue  # its caller was cancelled, or it is settled already
            if isinstance(error, asyncio.CancelledError):
                done.cancel()
            elif error is not None:
                done.set_exception(error)
            else:
                done.set_result(None)

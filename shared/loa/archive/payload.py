"""What a publisher sent: the rendered post, as canonical JSON, named by its SHA-256.

The delivery's status events carry the hash (``Delivery.payload_sha256``) from its first attempt
on; the publisher stores the bytes once under ``payloads/<sha256>.json`` in the archive bucket when
it starts the attempt (``PayloadArchive.keep``, beside the platform call, never in its way). The
post's ``progress`` (an upload session, resumable state) is not what was sent and is left out; its
media are there with their ``sha256/<hex>`` keys, which are their hashes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loa.archive.records import canonical_json, sha256_hex
from loa.archive.store import ArchiveStore
from loa.channels import Post

log = logging.getLogger(__name__)
REMEMBERED = 1024
"""Hashes a publisher remembers having stored: a retry of the same post does not store it again."""


def sent_payload(post: Post) -> bytes:
    return canonical_json({k: v for k, v in post.document().items() if k != "progress"})


def payload_sha256(post: Post) -> str:
    return sha256_hex(sent_payload(post))


class PayloadArchive:
    """Stores what a publisher sends, in the background; a failure is logged and counted, and the
    export's check names the payload missing (``loa archive verify``)."""

    def __init__(self, store: ArchiveStore, failures: Any = None) -> None:
        self.store = store
        self.failures = failures
        self._stored: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._putter = ThreadPoolExecutor(1, thread_name_prefix="payload-archive")
        """One thread puts them all, one after the other, off the event loop's default pool, which
        the SDK channels' platform calls share (it saved no CPU over ``to_thread``: docs/benchmarks.md,
        "Archive of record", 2026-12-07)."""

    def keep(self, post: Post) -> None:
        data = sent_payload(post)
        sha = sha256_hex(data)
        if sha in self._stored:
            return
        task = asyncio.create_task(self._store(sha, data, post))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(self, sha: str, data: bytes, post: Post) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._putter, self.store.put_payload, sha, data)
        except Exception as e:  # an outage of the store must not stop publishing
            log.warning(
                "payload %s of %s v%d on %s/%s not archived: %s",
                sha[:12],
                post.content_id,
                post.version,
                post.channel,
                post.account,
                type(e).__name__,
            )
            if self.failures is not None:
                self.failures.inc()
            return
        self._stored[sha] = None
        while len(self._stored) > REMEMBERED:
            self._stored.popitem(last=False)

    async def drain(self) -> None:
        """Wait for the payloads being stored (a test, a clean stop)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Store what is on its way, then let the thread go (a clean stop)."""
        await self.drain()
        self._putter.shutdown()

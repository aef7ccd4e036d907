"""In-process change notifications for live views (SSE); pollers cover other replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class Changes:
    """Each listener gets the content ids that changed since it last looked."""

    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[set[str]]] = set()

    def publish(self, content_ids: Iterable[str]) -> None:
        ids = set(content_ids)
        if not ids:
            return
        for queue in self._listeners:
            if queue.full():
                # A slow reader gets one merged notice rather than an unbounded backlog.
                merged = queue.get_nowait() | ids
                queue.put_nowait(merged)
            else:
                queue.put_nowait(ids)

    def listen(self) -> asyncio.Queue[set[str]]:
        queue: asyncio.Queue[set[str]] = asyncio.Queue(maxsize=1)
        self._listeners.add(queue)
        return queue

    def forget(self, queue: asyncio.Queue[set[str]]) -> None:
        self._listeners.discard(queue)

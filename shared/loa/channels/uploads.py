"""A memory budget for chunked uploads in flight in one publisher.

A chunked upload holds its chunks in memory while it sends them (YouTube: the chunk being sent and
the one read ahead; X: an APPEND and its multipart body). With ``publisher_concurrency`` deliveries
in flight, 8 MB chunks would otherwise add up to hundreds of MB; small media hardly count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class UploadBudget:
    """``async with budget.hold(n)``: wait until ``n`` bytes of the budget are free, hold them."""

    def __init__(self, memory_bytes: int) -> None:
        if memory_bytes < 1:
            raise ValueError("an upload budget needs at least one byte")
        self.capacity = memory_bytes
        self.free = memory_bytes
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, nbytes: int) -> AsyncIterator[None]:
        need = min(max(nbytes, 0), self.capacity)  # larger than the whole budget: runs alone
        async with self._changed:
            await self._changed.wait_for(lambda: self.free >= need)
            self.free -= need
        try:
            yield
        finally:
            async with self._changed:
                self.free += need
                self._changed.notify_all()

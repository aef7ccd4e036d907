"""Blocking SDK calls off the event loop, each one a safe point for cancellation.

``asyncio.to_thread`` lets a cancelled task go on while its thread still talks to the platform: a
retraction could then look for what the upload made before the last chunk's thread has made it.
Here a cancellation waits for the call under way to end (it is never cut in the middle), then
propagates: nothing of the cancelled work runs after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_thread(fn: Callable[..., T], /, *args: Any) -> T:
    """``fn(*args)`` in a worker thread; cancelled, it waits for ``fn`` to return, then re-raises."""
    call = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(call)
    except asyncio.CancelledError:
        await asyncio.wait([call])  # the SDK call ends on its own (bounded by its timeout)
        raise

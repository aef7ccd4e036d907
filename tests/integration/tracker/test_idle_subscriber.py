"""What the tracker's quiet fetches rely on: a broker holding an idle subscriber's fetch answers it
as soon as a record arrives (``fetch.min.bytes`` 1; kafka.apache.org/documentation/#consumerconfigs,
``fetch.max.wait.ms``), so a content reaching an idle tracker is on the view at once, not when the
hold ends. Held 6 s here (1 s in the tracker) to tell the two apart. The store plays no part: one
(SQLite) is enough."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from loa.events import topics
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    approved,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    tracker_settings,
)

pytestmark = pytest.mark.integration

HELD_MS = 6_000
SHOWN_WITHIN_S = 2.0
"""Far below the hold: a fetch answered only when the hold ends would show it ~4 s later."""


async def test_a_content_reaching_an_idle_tracker_is_shown_at_once(
    settings: LoaSettings, sqlite_url: str
) -> None:
    await create_topics(settings)
    loop = asyncio.get_running_loop()
    # past the setting's bound (a second), so the copy skips validation
    held = tracker_settings(settings, sqlite_url).model_copy(update={"tracker_fetch_wait_ms": HELD_MS})
    tracker = running_tracker(held)
    async with tracker as (_, client), producer(settings) as p:

        def shown(content_id: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                r = await client.get(f"/api/v1/contents/{content_id}", headers=auth("viewer"))
                return r.status_code == 200

            return check

        await send(p, settings, topics.CONTENT, [approved("tin-yen-lang-1")])
        await eventually(shown("tin-yen-lang-1"), what="the first content (the subscriber assigned)")
        await asyncio.sleep(2)  # nothing to read: the next fetch is held by the broker
        sent = loop.time()
        late = approved("tin-yen-lang-2", title="Đà Nẵng: Lễ hội pháo hoa quốc tế khai mạc tối nay")
        await send(p, settings, topics.CONTENT, [late])
        await eventually(
            shown("tin-yen-lang-2"), within=HELD_MS / 1000, what="the content sent to the idle tracker"
        )
        took = loop.time() - sent
    assert took < SHOWN_WITHIN_S, f"shown {took:.2f} s after it was sent"

"""An idle dispatcher sleeps until the next job is due, not claiming on every poll.

With nothing in flight and nothing due it read the job store every ``publisher_poll_seconds``
(0.2 s in production), most of an idle publisher's CPU (issue #20, docs/benchmarks.md "Session
33"). It now sleeps, once a poll passed with nothing waking it, until the earliest waiting job's due
time (at most ``IDLE_WAIT_SECONDS``), and intake wakes it for every job it writes, due now or
later. What must not change: a scheduled post
goes at its time — never before it, and not a poll late.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from publisher_fake import FakePlatform
from publisher_helpers import Watcher, approved, content, did, send_content

from loa.events import DeliveryState as S
from loa.events import utcnow
from loa.publisher.settings import PublisherSettings

pytestmark = pytest.mark.integration

AHEAD_S = 3.0
"""The post's time, from its approval: longer than IDLE_WAIT_SECONDS, so the sleep is cut in two."""


async def test_an_idle_dispatcher_sleeps_until_the_post_is_due_and_claims_it_on_time(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    pub = await start_publisher()
    claims: list[tuple[float, list[Any]]] = []
    claim = pub.store.claim

    async def counted(*args: Any, **kwargs: Any) -> list[Any]:
        got = await claim(*args, **kwargs)
        claims.append((time.monotonic(), got))
        return got

    pub.store.claim = counted  # type: ignore[method-assign]
    c = content("tb-lich-hop-bao-chi", publish_at=utcnow() + timedelta(seconds=AHEAD_S))
    approved_at = time.monotonic()
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED, timeout=AHEAD_S + 10)

    taken = [at for at, got in claims if any(job.content_id == c.id for job in got)]
    assert len(taken) == 1
    assert utcnow() >= c.publish_at  # type: ignore[operator]
    # at its time (the approval reached intake a little after approved_at), not a poll or more late
    assert AHEAD_S - 0.5 <= taken[0] - approved_at <= AHEAD_S + 0.5
    # a claim at intake's wake, one a poll later (nothing woke it: idle from then on), one when the
    # idle wait runs out, then the one that takes the post: at the tests' poll of 0.05 s it was ~60
    before_due = [at for at, _ in claims if approved_at <= at < taken[0]]
    assert len(before_due) <= 5, len(before_due)


async def test_a_content_due_now_wakes_the_dispatcher_at_once(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    """Intake wakes the dispatcher for what it wrote. It used to wake it only for a job due before
    the batch began (its own due time, read a moment later, never was), so a content to publish
    at once waited for the dispatcher's next poll: up to 0.2 s in production, 30 s here."""
    await start_publisher(settings=pub_settings.model_copy(update={"publisher_poll_seconds": 30.0}))
    c = content("tb-thong-cao-bao-chi-so-12")
    sent = time.monotonic()
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED, timeout=20)
    assert time.monotonic() - sent < 5.0

"""The drills: each feeds contents, does one fault to the running whole, undoes it, and measures the
recovery (seconds from the fault's end until every delivery it fed is final in the tracker)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.drills.rig import Rig
from bench.drills.verdict import Fed
from bench.e2e.stack import CHANNELS

RECOVERY_LIMIT = 120.0
"""Longest wait for a drill's deliveries to end before the next drill starts (keeps the run bounded)."""

Drill = Callable[[Rig], Awaitable[dict[str, Any]]]


async def _result(rig: Rig, fed: list[Fed], fault_ended: float, **extra: Any) -> dict[str, Any]:
    waited, pending = await rig.until_final(fed, RECOVERY_LIMIT)
    recovery = None if waited is None else round(time.monotonic() - fault_ended, 1)
    outcome = {"contents": len(fed), "recovery_s": recovery, **extra}
    if pending:
        outcome[f"not_final_after_{RECOVERY_LIMIT:.0f}_s"] = pending
    return outcome


async def kill_publishers(rig: Rig, kills: int = 6, every: float = 2.0) -> dict[str, Any]:
    """SIGKILL a random publisher every ``every`` s while 16 contents arrive; each restarts at once."""
    chooser = random.Random(25)  # the same victims on every run
    feeding = asyncio.create_task(rig.feed("kill_publishers", 16, rate=2.0))
    victims = []
    for _ in range(kills):
        await asyncio.sleep(every)
        victim = chooser.choice(CHANNELS)
        await asyncio.to_thread(rig.kill, victim)
        victims.append(victim)
    ended = time.monotonic()
    fed = await feeding
    return await _result(rig, fed, ended, killed=victims)


async def _outage(rig: Rig, drill: str, component: str, hold: float) -> dict[str, Any]:
    """Stop ``component`` of the private stack while contents arrive (12 at 2/s, the stop 2 s in)
    and deliveries are under way; start it again after ``hold`` s. Kafka: the contents are all sent
    first (the feed stands for a content system, which would hold its sends while Kafka is down)."""
    if component == "kafka":
        feeding = asyncio.create_task(rig.feed(drill, 8, rate=8.0))
        await asyncio.wait([feeding])
    else:
        feeding = asyncio.create_task(rig.feed(drill, 12, rate=2.0))
        await asyncio.sleep(2.0)
    stopping = time.monotonic()
    await asyncio.to_thread(rig.private.stop, component)
    await asyncio.sleep(max(0.0, hold - (time.monotonic() - stopping)))
    restarting = time.monotonic()
    await asyncio.to_thread(rig.private.start, component)
    ended = time.monotonic()
    fed = await feeding
    return await _result(
        rig, fed, ended, down_s=round(restarting - stopping, 1), start_s=round(ended - restarting, 1)
    )


async def broker_outage(rig: Rig) -> dict[str, Any]:
    return await _outage(rig, "broker_outage", "kafka", hold=30.0)


async def object_store_outage(rig: Rig) -> dict[str, Any]:
    return await _outage(rig, "object_store_outage", "minio", hold=20.0)


async def database_outage(rig: Rig) -> dict[str, Any]:
    """PostgreSQL holds every publisher's job store and the tracker's store."""
    return await _outage(rig, "database_outage", "postgres", hold=20.0)


async def restart_with_posts_due(rig: Rig, lead: float = 15.0, down: float = 20.0) -> dict[str, Any]:
    """Contents due ``lead`` s ahead; every publisher stops (SIGTERM) before they are due and starts
    only after: none may go out early, none may be lost."""
    fed = await rig.feed("restart_with_posts_due", 8, rate=4.0, publish_in=lead)
    await asyncio.sleep(2.0)
    await asyncio.to_thread(rig.publishers_down)
    await asyncio.sleep(down)
    await asyncio.to_thread(rig.publishers_up)
    ended = time.monotonic()
    return await _result(rig, fed, ended, due_in_s=lead, publishers_down_s=down)


async def retract_during_upload(rig: Rig, latency_ms: int = 2500) -> dict[str, Any]:
    """A content retracted while its YouTube upload is in flight (each YouTube call made slow)."""
    await asyncio.to_thread(rig.sandbox.latency, "youtube", latency_ms)
    try:
        (fed,) = await rig.feed("retract_during_upload", 1, rate=1.0, channels=("youtube", "webhook"))
        started, seen = time.monotonic(), None
        while time.monotonic() - started < 60 and seen != "publishing":
            seen = await rig.state_of(fed.content_id, "youtube")
            await asyncio.sleep(0.3)
        await asyncio.sleep(latency_ms / 1000)  # into the upload's calls
        await rig.retract(fed)
        ended = time.monotonic()
        return await _result(rig, [rig.fed[fed.content_id]], ended, youtube_state_at_retraction=seen)
    finally:
        await asyncio.to_thread(rig.sandbox.latency, "youtube", 0)


DRILLS: dict[str, Drill] = {
    "kill_publishers": kill_publishers,
    "broker_outage": broker_outage,
    "object_store_outage": object_store_outage,
    "database_outage": database_outage,
    "restart_with_posts_due": restart_with_posts_due,
    "retract_during_upload": retract_during_upload,
}

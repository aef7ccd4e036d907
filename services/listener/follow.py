"""What a status event on ``loa.delivery.v1`` means to the listener: follow a post, or stop.

``published`` with the platform's id: follow it from the event's time (the schedule counts from
publication). ``retracting``/``retracted``: stop (a post taken down has no audience to measure).
Everything else is not the listener's business. A status event read again (a rewind, a replica
taking over a partition) changes nothing: following is an upsert keyed by the delivery.
"""

from __future__ import annotations

from collections.abc import Sequence

from loa.events import DeliveryState, DeliveryStatus
from services.listener.schedule import Schedule
from services.listener.store import FollowedStore, Published

STOPS = {DeliveryState.RETRACTING: "retracted", DeliveryState.RETRACTED: "retracted"}


async def apply_statuses(
    store: FollowedStore, events: Sequence[DeliveryStatus], schedule: Schedule, readable: frozenset[str]
) -> int:
    """Apply a batch in order; returns how many posts it started following. ``readable``: the channels
    with a reader (a post on another channel is not followed)."""
    started = 0
    for event in events:
        d = event.payload
        if d.channel not in readable:
            continue
        if d.state is DeliveryState.PUBLISHED and d.external_id:
            post = Published(d.content_id, d.version, d.channel, d.account, d.external_id, event.occurred_at)
            first = schedule.next_poll(post.published_at, event.occurred_at)
            await store.follow(post, first[1] if first else None)
            started += 1
        elif d.state in STOPS:
            await store.stop(d.content_id, d.channel, d.account, STOPS[d.state])
    return started

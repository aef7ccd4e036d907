"""What a status event on ``loa.delivery.v1`` means to the listener: follow a post, or stop.

``published`` with the platform's id: follow it from the event's time (the schedules count from
publication), its figures and its comments each on their own table. ``retracting``/``retracted``:
stop (a post taken down has no audience to measure). Everything else is not the listener's
business. A status event read again (a rewind, a replica taking over a partition) changes nothing:
following is an upsert keyed by the delivery and the kind of read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loa.events import DeliveryState, DeliveryStatus
from services.listener.schedule import Read, Schedule
from services.listener.store import FollowedStore, Published

STOPS = {DeliveryState.RETRACTING: "retracted", DeliveryState.RETRACTED: "retracted"}


async def apply_statuses(
    store: FollowedStore, events: Sequence[DeliveryStatus], tables: Mapping[str, Mapping[Read, Schedule]]
) -> int:
    """Apply a batch in order; returns how many posts it started following. ``tables``: per channel
    with a reader, the reads it makes and their schedules (``Poller.tables``); a post on another
    channel is not followed."""
    started = 0
    for event in events:
        d = event.payload
        schedules = tables.get(d.channel)
        if schedules is None:
            continue
        if d.state is DeliveryState.PUBLISHED and d.external_id:
            post = Published(d.content_id, d.version, d.channel, d.account, d.external_id, event.occurred_at)
            for kind, schedule in schedules.items():
                first = schedule.next_poll(post.published_at, event.occurred_at)
                await store.follow(post, kind, first[1] if first else None)
            started += 1
        elif d.state in STOPS:
            await store.stop(d.content_id, d.channel, d.account, STOPS[d.state])
    return started

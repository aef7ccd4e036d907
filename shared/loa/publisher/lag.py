"""Consumer lag of the publisher's content subscription (for ``/metrics``).

Read from the running consumer itself: the highwater mark each fetch response carries, minus the
position of the next record handed to intake, over the partitions this replica holds. No client
is made and no metadata fetched for it (a fresh client fetches the metadata of every topic in the
cluster first, which on a shared cluster cost more CPU than the intake it measured).
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

POSITION_TIMEOUT_S = 1.0


async def consumer_lag(consumer: AIOKafkaConsumer | None) -> int | None:
    """Messages past this consumer's position on its partitions (None before it is assigned any)."""
    if consumer is None:
        return None
    partitions = consumer.assignment()
    if not partitions:
        return None
    lag = 0
    for tp in partitions:
        high = consumer.highwater(tp)
        if high is None:  # nothing fetched yet from this partition
            continue
        position = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_S)
        lag += max(0, high - position)
    return lag

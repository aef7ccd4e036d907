"""The tracker's consumer lag (for ``/metrics``): events on a topic not yet written to the database.

Log end offset minus the group's committed offset, over the partitions this replica holds. The
tracker commits a batch only after its transaction, so this counts every event received by Kafka
and not yet visible in the API. Read through the running consumer's own client: no new client, no
cluster-wide metadata fetch.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

LAG_TIMEOUT_S = 2.0


async def uncommitted(consumer: AIOKafkaConsumer | None) -> int | None:
    """Events past the committed offset on this consumer's partitions (None before it holds any)."""
    if consumer is None:
        return None
    partitions = consumer.assignment()
    if not partitions:
        return None
    ends = await asyncio.wait_for(consumer.end_offsets(list(partitions)), LAG_TIMEOUT_S)
    lag = 0
    for tp in partitions:
        committed = await asyncio.wait_for(consumer.committed(tp), LAG_TIMEOUT_S)
        if committed is None:  # nothing committed yet: the group starts from the earliest offset
            committed = (await asyncio.wait_for(consumer.beginning_offsets([tp]), LAG_TIMEOUT_S))[tp]
        lag += max(0, ends[tp] - committed)
    return lag

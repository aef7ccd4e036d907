"""Consumer lag for ``/metrics``, read through a running aiokafka consumer's own client.

No client is made and no metadata fetched for it (a fresh client fetches the metadata of every
topic in the cluster first, which on a shared cluster cost more CPU than the intake it measured).
Two readings, for two kinds of consumer:

- ``unread``: messages past the consumer's position (the highwater mark each fetch response
  carries, minus the next record to hand out) — the publisher's intake, which commits after
  every batch's transaction;
- ``uncommitted``: log end offset minus the group's committed offset — the tracker, which commits
  a batch only after writing it, so this counts every event Kafka holds and the API does not show.

``assigned_nothing`` tells a member the group gave no partition (another member has them all)
from one that has not joined yet: ``assignment()`` is empty in both cases.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

TIMEOUT_S = 2.0


async def unread(consumer: AIOKafkaConsumer | None) -> int | None:
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
        position = await asyncio.wait_for(consumer.position(tp), TIMEOUT_S)
        lag += max(0, high - position)
    return lag


async def uncommitted(consumer: AIOKafkaConsumer | None, topic: str | None = None) -> int | None:
    """Events past the committed offset on this consumer's partitions, or on those of ``topic``
    when it reads several (None before it holds any)."""
    if consumer is None:
        return None
    partitions = {tp for tp in consumer.assignment() if topic is None or tp.topic == topic}
    if not partitions:
        return None
    ends = await asyncio.wait_for(consumer.end_offsets(list(partitions)), TIMEOUT_S)
    lag = 0
    for tp in partitions:
        committed = await asyncio.wait_for(consumer.committed(tp), TIMEOUT_S)
        if committed is None:  # nothing committed yet: the group starts from the earliest offset
            committed = (await asyncio.wait_for(consumer.beginning_offsets([tp]), TIMEOUT_S))[tp]
        lag += max(0, ends[tp] - committed)
    return lag


def assigned_nothing(consumer: AIOKafkaConsumer | None) -> bool:
    """The group's assignment reached this consumer and gave it no partition (the other members
    hold them all); False before its first assignment."""
    if consumer is None:
        return False
    # aiokafka (0.14) has no public flag for "assigned": ``assignment()`` is an empty set both before
    # the join and after an empty assignment. Its subscription's ``assignment`` is None until the
    # coordinator has assigned it something, even nothing.
    subscription = consumer._subscription.subscription
    assignment = subscription.assignment if subscription is not None else None
    return assignment is not None and not assignment.tps

"""The run's consumer groups as the broker sees them: members, what each is assigned, and lag.

Read with Kafka's own admin requests (ListGroups, DescribeGroups, OffsetFetch; aiokafka's admin
client, whose DescribeGroups answer is the raw response: one tuple per group, ``(error_code, group,
state, protocol_type, protocol, members[, authorized_operations])``, each member ``(member_id,
client_id, client_host, member_metadata, member_assignment)`` with the consumer protocol's
metadata and assignment as bytes; kafka.apache.org/protocol#The_Messages_DescribeGroups).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata

from loa.kafka_acl import publisher_group
from loa.kafka_security import client_security
from loa.settings import LoaSettings

STABLE = "Stable"
POLL_S = 0.5


@dataclass(frozen=True)
class GroupView:
    """One consumer group at one moment."""

    group: str
    state: str
    members: frozenset[str]
    topics: frozenset[str]
    """What its members subscribe to."""
    assigned: tuple[TopicPartition, ...]
    """Every partition handed to a member (twice if two members hold it)."""

    def complete(self, partitions: int) -> bool:
        """Stable, and each partition of each topic it reads held by exactly one member."""
        return (
            self.state == STABLE
            and len(self.assigned) == len(set(self.assigned)) == len(self.topics) * partitions
        )


def view_of(described: Sequence[Any]) -> GroupView:
    """A group of a DescribeGroups answer (the tuple above)."""
    _, group, state, _, _, members = described[:6]
    topics: set[str] = set()
    assigned: list[TopicPartition] = []
    for member in members:
        metadata, assignment = member[3], member[4]
        if metadata:
            topics.update(ConsumerProtocolMemberMetadata.decode(metadata).subscription)
        if assignment:
            assigned += ConsumerProtocolMemberAssignment.decode(assignment).partitions()
    return GroupView(group, state, frozenset(m[0] for m in members), frozenset(topics), tuple(assigned))


def owner(group: str, settings: LoaSettings, channels: Sequence[str]) -> str:
    """The service a group of the run belongs to: a channel's publishers (its content group and
    the groups named after it), else the trackers (the run's topic prefix has nothing else)."""
    for channel in channels:
        base = settings.group(publisher_group(channel))
        if group == base or group.startswith(f"{base}-"):
            return channel
    return "tracker"


@dataclass
class Groups:
    """Polls every group of the run's prefix, every ``POLL_S``; ``latest`` is the last reading."""

    settings: LoaSettings
    partitions: int
    latest: dict[str, GroupView] = field(default_factory=dict)
    taken_at: float = 0.0
    """``time.monotonic()`` when ``latest`` was asked for."""
    _admin: AIOKafkaAdminClient | None = None
    _coordinators: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> Groups:
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap, **client_security(self.settings)
        )
        await self._admin.start()
        await self.read()
        self._task = asyncio.create_task(self._loop())
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._admin is not None:
            await self._admin.close()

    async def read(self) -> dict[str, GroupView]:
        assert self._admin is not None
        asked = time.monotonic()
        listed = await self._admin.list_consumer_groups()
        names = sorted({g[0] for g in listed if g[0].startswith(self.settings.topic_prefix)})
        views: dict[str, GroupView] = {}
        # One group a request: aiokafka 0.14 sends DescribeGroups v3 to a broker that has it (Kafka 4
        # does) but reads the answer with v2's layout, which lacks v3's per-group
        # ``authorized_operations`` (int32, KIP-430): the first group reads right and its 4 extra
        # bytes shift every group after it (three in one request: "Buffer underrun decoding string",
        # and the connection closed, on the local Kafka 4.4). Alone, the 4 bytes come last, unread.
        for name in names:
            if name not in self._coordinators:
                self._coordinators[name] = await self._admin.find_coordinator(name)
            try:
                (response,) = await self._admin.describe_consumer_groups(
                    [name], group_coordinator_id=self._coordinators[name]
                )
            except Exception:
                del self._coordinators[name]  # moved, or gone: found again at the next reading
                raise
            (described,) = response.groups
            views[name] = view_of(described)
        self.latest, self.taken_at = views, asked
        return views

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            with contextlib.suppress(Exception):  # a slow broker answer: the next poll reads again
                await self.read()

    def of(self, service: str, channels: Sequence[str]) -> dict[str, GroupView]:
        return {g: v for g, v in self.latest.items() if owner(g, self.settings, channels) == service}

    def all_complete(self) -> bool:
        return bool(self.latest) and all(v.complete(self.partitions) for v in self.latest.values())

    async def lags(self) -> dict[str, int]:
        """Each group: the events of the topics it reads past its committed offsets."""
        assert self._admin is not None
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, **client_security(self.settings)
        )
        await consumer.start()
        try:
            out: dict[str, int] = {}
            for group, view in self.latest.items():
                parts = [TopicPartition(t, p) for t in sorted(view.topics) for p in range(self.partitions)]
                ends = await consumer.end_offsets(parts)
                committed = await self._admin.list_consumer_group_offsets(group, partitions=parts)
                out[group] = sum(
                    end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                    for tp, end in ends.items()
                )
            return out
        finally:
            await consumer.stop()

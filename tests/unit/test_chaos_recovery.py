"""bench/chaos: what a consumer group's DescribeGroups answer says, which service a group belongs
to, and when a kill counts as recovered (the dead member gone, the restarted one in, all held)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata

from bench.chaos.groups import Groups, GroupView, owner, view_of
from bench.chaos.harness import passed, publishing_gaps
from bench.chaos.kills import Chaos, Kill
from bench.chaos.replicas import ReplicaStack
from bench.drills.verdict import Verdict
from bench.e2e.observe import Delivery
from loa.events import utcnow
from loa.settings import LoaSettings

pytestmark = pytest.mark.unit

PREFIX = "chaos-1a2b3c4d."
SETTINGS = LoaSettings(topic_prefix=PREFIX)
CONTENT = f"{PREFIX}loa.content.v1"
GROUP = f"{PREFIX}loa-publisher-x"


def member(member_id: str, topics: list[str], held: dict[str, list[int]]) -> tuple[Any, ...]:
    """A member as DescribeGroups gives it: (member_id, client_id, client_host, metadata, assignment)."""
    metadata = ConsumerProtocolMemberMetadata(0, topics, b"").encode()
    assignment = ConsumerProtocolMemberAssignment(0, list(held.items()), b"").encode()
    return (member_id, GROUP, "/127.0.0.1", metadata, assignment)


def described(group: str, state: str, *members: tuple[Any, ...]) -> tuple[Any, ...]:
    return (0, group, state, "consumer", "range", list(members))


def three_members(*ids: str, state: str = "Stable") -> GroupView:
    return view_of(
        described(
            GROUP,
            state,
            *(member(m, [CONTENT], {CONTENT: list(range(4 * i, 4 * i + 4))}) for i, m in enumerate(ids)),
        )
    )


def test_a_group_is_whole_when_stable_with_every_partition_held_once() -> None:
    view = three_members("a", "b", "c")
    assert view.members == {"a", "b", "c"} and view.topics == {CONTENT}
    assert view.complete(12)
    assert not view.complete(24)  # a topic of 24 partitions would have 12 unheld
    assert not three_members("a", "b", "c", state="PreparingRebalance").complete(12)
    twice = view_of(
        described(
            GROUP,
            "Stable",
            member("a", [CONTENT], {CONTENT: list(range(12))}),
            member("b", [CONTENT], {CONTENT: [0]}),
        )
    )
    assert not twice.complete(12)


def test_a_group_belongs_to_its_channel_s_publishers_and_the_rest_to_the_trackers() -> None:
    channels = ["x", "youtube", "webhook"]
    assert owner(GROUP, SETTINGS, channels) == "x"
    assert owner(f"{GROUP}-commands", SETTINGS, channels) == "x"
    assert owner(f"{PREFIX}loa-publisher-youtube", SETTINGS, channels) == "youtube"
    assert owner(f"{PREFIX}chaos-1a2b3c4d-tracker-audit", SETTINGS, channels) == "tracker"


def chaos_with(view: GroupView) -> Chaos:
    groups = Groups(SETTINGS, partitions=12, latest={view.group: view})
    stack = ReplicaStack.__new__(ReplicaStack)  # only its pools are read here
    stack.pools = {"x": ["x-chaos-0"]}
    return Chaos(stack, groups, random.Random(0), (3.0, 6.0))


def kill_of(*members: str) -> Kill:
    return Kill("x-2", "x", 0.0, utcnow(), {GROUP: frozenset(members)})


def test_a_kill_is_recovered_once_the_restarted_replica_replaced_the_dead_member() -> None:
    kill = kill_of("a", "b", "c")
    assert not chaos_with(three_members("a", "b", "c"))._rejoined(kill)  # the dead member still holds 4
    two = view_of(
        described(
            GROUP,
            "Stable",
            member("a", [CONTENT], {CONTENT: list(range(6))}),
            member("c", [CONTENT], {CONTENT: list(range(6, 12))}),
        )
    )
    assert not chaos_with(two)._rejoined(kill)  # the dead one is gone, the restart not yet in
    assert not chaos_with(three_members("a", "c", "d", state="CompletingRebalance"))._rejoined(kill)
    assert chaos_with(three_members("a", "c", "d"))._rejoined(kill)


def test_recovery_is_the_later_of_ready_and_whole_and_none_until_both() -> None:
    kill = kill_of("a")
    kill.ready_s = 4.2
    assert kill.recovered_s is None
    kill.rejoined_s = 11.5
    assert kill.recovered_s == 11.5


def test_the_gap_after_a_kill_runs_to_the_channel_s_next_post() -> None:
    kill = kill_of("a")
    posts = [
        Delivery(f"bench-000000{n}", "x", "published", None, kill.at_utc + delta, str(n), None)
        for n, delta in ((1, -timedelta(seconds=1)), (2, timedelta(seconds=2.5)), (3, timedelta(seconds=3)))
    ]
    other = Delivery(
        "bench-0000004", "zalo", "published", None, kill.at_utc + timedelta(seconds=0.5), "z", None
    )
    assert publishing_gaps([kill], [*posts, other], ["x", "zalo"], kill.at_utc + timedelta(seconds=30)) == [
        2.5
    ]
    assert publishing_gaps([kill], posts, ["x"], kill.at_utc + timedelta(seconds=4)) == []  # the feed's end


def test_a_run_passes_only_clean_drained_whole_and_with_every_kill_recovered() -> None:
    good: dict[str, Any] = {
        "verdict": Verdict().__dict__,
        "drain_s": 12.0,
        "groups_whole_at_end": True,
        "lag_at_end": {GROUP: 0},
        "kills": [{"recovered_s": 11.0}],
        "exited_on_their_own": [],
    }
    assert passed(good)
    assert not passed({**good, "lag_at_end": {GROUP: 3}})
    assert not passed({**good, "kills": [{"recovered_s": None}]})
    assert not passed({**good, "verdict": Verdict(duplicates=["x: 2 posts"]).__dict__})
    assert not passed({**good, "drain_s": None})
    assert not passed({**good, "exited_on_their_own": ["zalo-2"]})

"""The chaos: every few seconds a random replica is SIGKILLed and started again at once (what a
supervisor does), and each kill's recovery is timed.

A kill picks a service at full strength (a channel's publishers, or the trackers: none of its
replicas still recovering from an earlier kill), then one of its replicas. So at most one replica of
each service is down at a time, and each recovery is that kill's alone. Recovery of a kill, from
the SIGKILL:

- ``ready_s``: until the restarted replica answers ``/readyz`` (its Kafka, database and object
  store answer it; a publisher answers before it consumes, a tracker once its consumers joined);
- ``rejoined_s``: until every consumer group of the service is whole again: Stable, as many members
  as at the kill but not the same ones (the dead member gone, the restarted one in), every partition
  of its topics held by exactly one member. A dead member holds its partitions until its session
  times out (10 s for every Loa consumer), so this is rarely under 10 s;
- ``recovered_s``: the later of the two.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.chaos.groups import Groups
from bench.chaos.replicas import ReplicaStack
from bench.e2e.stack import TRACKER
from loa.events import utcnow

RECOVERY_LIMIT_S = 120.0
"""A kill not recovered by then is recorded as such (None) and its service may be chosen again."""
READY_TIMEOUT_S = 5.0
"""One ``/readyz`` request at most (its probes take up to 2 s each on a busy machine)."""


@dataclass
class Kill:
    replica: str
    service: str
    at: float
    """``time.monotonic()`` of the SIGKILL."""
    at_utc: datetime
    members_before: dict[str, frozenset[str]]
    """Each group of the service → its member ids at the kill."""
    ready_s: float | None = None
    rejoined_s: float | None = None
    exits: int = 0
    """Times the restarted replica exited on its own before it was ready (each started again)."""
    leased: dict[str, int] = field(default_factory=dict)
    """A publisher's jobs under its lease just before the kill, by state (its work in flight)."""

    @property
    def recovered_s(self) -> float | None:
        if self.ready_s is None or self.rejoined_s is None:
            return None
        return max(self.ready_s, self.rejoined_s)

    def record(self, since: float) -> dict[str, Any]:
        return {
            "t_s": round(self.at - since, 1),
            "at": self.at_utc.isoformat(),
            "replica": self.replica,
            "service": self.service,
            "ready_s": _round(self.ready_s),
            "rejoined_s": _round(self.rejoined_s),
            "recovered_s": _round(self.recovered_s),
            "exits": self.exits,
            "leased": self.leased,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class Chaos:
    stack: ReplicaStack
    groups: Groups
    rng: random.Random
    interval: tuple[float, float]
    kills: list[Kill] = field(default_factory=list)
    waited_s: float = 0.0
    """Time kills waited because every service was still recovering."""
    _recovering: set[str] = field(default_factory=set)
    _freed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a service's recovery ends."""

    @property
    def channels(self) -> list[str]:
        return list(self.stack.pools)

    async def run(self, seconds: float) -> list[Kill]:
        """Kill a replica every ``interval`` s (drawn anew each time) for ``seconds``; then wait for
        every recovery."""
        end = time.monotonic() + seconds
        watching: list[asyncio.Task[None]] = []
        while True:
            await asyncio.sleep(self.rng.uniform(*self.interval))
            if time.monotonic() >= end:
                break
            service = await self._pick_service()
            if time.monotonic() >= end:  # every service was still recovering until the end
                break
            kill = await self._kill(service, self.rng.choice(self.stack.members[service]))
            watching.append(asyncio.create_task(self._recover(kill)))
        await asyncio.gather(*watching)
        return self.kills

    async def _pick_service(self) -> str:
        waiting = time.monotonic()
        while not (ready := sorted(set(self.stack.members) - self._recovering)):
            self._freed.clear()
            await self._freed.wait()
        self.waited_s += time.monotonic() - waiting
        return self.rng.choice(ready)

    async def _kill(self, service: str, replica: str) -> Kill:
        before = {g: v.members for g, v in self.groups.of(service, self.channels).items()}
        process = self.stack.services[replica]
        leased = {} if service == TRACKER else await asyncio.to_thread(self.stack.leased, replica)
        kill = Kill(replica, service, time.monotonic(), utcnow(), before, leased=leased)
        self._recovering.add(service)
        await asyncio.to_thread(process.sigkill)
        process.start()
        self.kills.append(kill)
        print(f"   kill {len(self.kills)}: {replica}", flush=True)
        return kill

    def _rejoined(self, kill: Kill) -> bool:
        now = self.groups.of(kill.service, self.channels)
        return set(now) >= set(kill.members_before) and all(
            v.complete(self.groups.partitions)
            and len(v.members) == len(kill.members_before.get(g, v.members))
            and v.members != kill.members_before.get(g)
            for g, v in now.items()
        )

    async def _recover(self, kill: Kill) -> None:
        try:
            await asyncio.wait_for(asyncio.gather(self._ready(kill), self._whole(kill)), RECOVERY_LIMIT_S)
        except TimeoutError:
            pass  # recorded as not recovered (None)
        finally:
            self._recovering.discard(kill.service)
            self._freed.set()

    async def _ready(self, kill: Kill) -> None:
        process = self.stack.services[kill.replica]
        while True:
            if process.proc is not None and process.proc.poll() is not None:
                kill.exits += 1
                await asyncio.sleep(1.0)  # the local supervisor's first restart delay
                process.start()
            elif await asyncio.to_thread(process.healthy, READY_TIMEOUT_S):
                kill.ready_s = time.monotonic() - kill.at
                return
            await asyncio.sleep(0.25)

    async def _whole(self, kill: Kill) -> None:
        while True:
            taken_at = self.groups.taken_at
            if taken_at > kill.at and self._rejoined(kill):
                kill.rejoined_s = taken_at - kill.at
                return
            await asyncio.sleep(0.1)

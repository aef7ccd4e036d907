"""The bench's stack in replicas: ``replicas`` publisher processes per channel and ``trackers``
tracker processes, each its own replica id, port and log (``bench/e2e/stack.py`` builds each one).

A channel's replicas share its job store, a PostgreSQL database of its own (leases, ``FOR UPDATE SKIP
LOCKED``), and its consumer groups; the trackers share one database and their groups. The topic
prefix, bucket and databases are the run's own, as for the e2e bench.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.e2e.stack import TRACKER, BenchStack, Service
from loa.testing.ports import free_port


@dataclass
class ReplicaStack(BenchStack):
    replicas: int = 3
    trackers: int = 2
    members: dict[str, list[str]] = field(default_factory=dict)
    """Each service (a channel, or ``tracker``) → its replicas' names."""

    def loa_processes(self) -> dict[str, Service]:
        processes: dict[str, Service] = {}
        ports = [self.tracker_port] + [
            free_port() for _ in range(self.trackers - 1)
        ]  # the first: tracker_url
        self.members[TRACKER] = [f"{TRACKER}-{i}" for i in range(1, self.trackers + 1)]
        for name, port in zip(self.members[TRACKER], ports, strict=True):
            processes[name] = self.tracker(name, port)
        for channel in self.pools:
            self.members[channel] = [f"{channel}-{i}" for i in range(1, self.replicas + 1)]
            for name in self.members[channel]:
                processes[name] = self.publisher(channel, name)
        return processes

    def service_of(self, replica: str) -> str:
        return next(service for service, names in self.members.items() if replica in names)

    def leased(self, replica: str) -> dict[str, int]:
        """The jobs a publisher replica holds a lease on now, by state: its work in flight (a
        released lease has no owner)."""
        import psycopg

        channel = self.service_of(replica)
        url = f"{self.pg_admin_url.rsplit('/', 1)[0]}/{self._pg_name(f'jobs-{channel}')}"
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                # the dispatcher's lease owner: the replica id, then its own suffix
                "SELECT state, count(*) FROM jobs WHERE lease_owner LIKE %s GROUP BY state",
                (self.services[replica].env["LOA_PUBLISHER_REPLICA_ID"] + "/%",),
            ).fetchall()
        return {str(state): int(n) for state, n in rows}

    def start_services(self, timeout: float = 120.0) -> float:
        """The first replica of each service, then the others: on a fresh database the first one
        seeds the accounts file alone (replicas seeding one store at once could both insert an
        account). Seconds until every replica answers ``/readyz``."""
        started = time.monotonic()
        first = [self.services[names[0]] for names in self.members.values()]
        rest = [self.services[name] for names in self.members.values() for name in names[1:]]
        for batch in (first, rest):
            for service in batch:
                service.start()
            self._wait(batch, timeout)
        return time.monotonic() - started

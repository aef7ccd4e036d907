"""Tracker ingestion bench: status events/s into SQLite and PostgreSQL, next to raw aiokafka.

Same run, same events: (1) a backlog consumed by raw aiokafka (no parsing, no writes) and by the
tracker's real consumer on each store (catch-up throughput, from its first commit to zero lag);
(2) a sustained burst produced at a fixed rate while the tracker runs (events over the time from
the burst's start to zero lag, and how long the lag takes to reach zero after the burst ends).
Both phases also give the tracker process's CPU per status event and per delivery (issue #20),
the settled tracker's CPU per second with nothing to read (its consumers' background work), and
its resident memory idle and at its peak in each phase (the consumers without the tracker's API, in
a process that imported this bench: compare a peak with the idle figure, not with the service's);
``LOA_BENCH_TRACKER_FLAME=<path prefix>`` has py-spy record the burst as a flame graph per store.
The tracker runs in a process of its own, as in production. Figures last, as ``name: value unit``;
JSON in bench/results/tracker.json.

    PYTHONPATH=shared:. python bench/tracker.py [--backlog 40000] [--rate 5000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import psycopg
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner

from bench.py_spy import py_spy
from bench.rss import vm
from loa.events import Delivery, DeliveryState, DeliveryStatus, topics
from loa.kafka import make_broker
from loa.testing.admin import sign_in_to_kafka_as_admin, use_pg_superuser_password
from loa.testing.kafka_client import client_options
from services.tracker.consumer import register
from services.tracker.db import make_engine, migrate
from services.tracker.live import Changes
from services.tracker.metrics import TrackerMetrics
from services.tracker.settings import TrackerSettings

RESULTS = Path(__file__).resolve().parent / "results" / "tracker.json"
PG_ADMIN = "postgresql://loa@127.0.0.1:5432/postgres"
use_pg_superuser_password()  # the bench makes and drops its databases as the superuser
sign_in_to_kafka_as_admin()  # its own topics and groups, which no service principal may use
STATES = (DeliveryState.SCHEDULED, DeliveryState.PUBLISHING, DeliveryState.RETRYING, DeliveryState.PUBLISHED)
CHANNELS = ("facebook", "website", "zalo", "youtube")
IDLE_S = 10.0
"""How long the settled tracker is watched with nothing to read, before the burst."""


def make_events(n: int, tag: str) -> list[tuple[bytes, bytes]]:
    """``n`` status events: deliveries walking scheduled → publishing → retrying → published."""
    out: list[tuple[bytes, bytes]] = []
    per = len(STATES)
    for i in range(n):
        d, step = divmod(i, per)
        content_id = f"{tag}-{d // len(CHANNELS)}"
        channel = CHANNELS[d % len(CHANNELS)]
        event = DeliveryStatus(
            producer=f"loa-publisher-{channel}",
            payload=Delivery(
                content_id=content_id,
                version=1,
                channel=channel,
                account="tai-khoan-chinh",
                state=STATES[step],
                attempt=1 + (step >= 2),
                sequence=step + 1,
                note="Đang xử lý bài viết về Đà Nẵng",
            ),
        )
        out.append((content_id.encode(), event.model_dump_json().encode()))
    return out


async def create_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        names = [f"{prefix}{t}" for t in (topics.DELIVERY, topics.CONTENT, topics.dlq(topics.DELIVERY))]
        await admin.create_topics([NewTopic(n, 3, 1) for n in names])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, events: list[tuple[bytes, bytes]], rate: float | None) -> float:
    """Send every event (at ``rate`` per second if given); returns when the last was acknowledged.

    Records go in ready-made batches per partition (keys hashed as the default partitioner does,
    so each content's events stay in order): the producer must not be what limits the offered rate.
    """
    producer = AIOKafkaProducer(**client_options(bootstrap), acks="all", linger_ms=5)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        partitioner = DefaultPartitioner()
        start = time.monotonic()
        chunk = max(1, int(rate / 50)) if rate else 2000
        futures = []
        for i in range(0, len(events), chunk):
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            batches: dict[int, Any] = {}
            for key, value in events[i : i + chunk]:
                partition = partitioner(key, partitions, partitions)
                batch = batches.get(partition)
                if batch is None:
                    batch = batches[partition] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = batches[partition] = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
            for partition, batch in batches.items():
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)
        return time.monotonic()
    finally:
        await producer.stop()


async def lag_of(admin: AIOKafkaAdminClient, group: str, ends: dict[TopicPartition, int]) -> int:
    committed = await admin.list_consumer_group_offsets(group)
    return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**client_options(bootstrap))
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0, 1, 2})]
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def wait_lag_zero(
    bootstrap: str, group: str, topic: str, cpu: Callable[[], float], limit_s: float = 300
) -> tuple[float, float, float]:
    """When the group's lag reached zero, the rate from its first commit to then (events/s), and the
    consumer's CPU seconds (``cpu()``) over that span."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        ends = await end_offsets(bootstrap, topic)
        total = sum(ends.values())
        first: tuple[float, int] | None = None
        cpu_at_first = 0.0
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            lag = await lag_of(admin, group, ends)
            now = time.monotonic()
            if first is None and lag < total:
                first, cpu_at_first = (now, lag), cpu()
            if lag == 0:
                rate = first[1] / (now - first[0]) if first and now > first[0] else float("nan")
                return now, rate, cpu() - cpu_at_first
            await asyncio.sleep(0.02)
        raise TimeoutError(f"group {group} still lags after {limit_s} s")
    finally:
        await admin.close()


async def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    """Raw aiokafka: fetch ``n`` records, nothing else. Returns events/s."""
    consumer = AIOKafkaConsumer(
        topic, **client_options(bootstrap), group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=1000,
    )  # fmt: skip
    await consumer.start()
    try:
        seen, start = 0, None
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            if start is None and batch:
                start = time.monotonic()
            seen += sum(len(v) for v in batch.values())
        await consumer.commit()
        return n / (time.monotonic() - (start or time.monotonic()))
    finally:
        await consumer.stop()


async def serve_tracker(url: str, prefix: str, bootstrap: str, group: str) -> None:
    """The tracker's real consumer on one store (no HTTP), until killed: ``--serve``."""
    settings = TrackerSettings(
        database_url=url, topic_prefix=prefix, kafka_bootstrap=bootstrap, tracker_group_id=group
    )
    engine = make_engine(url)
    await migrate(engine)
    broker = make_broker(settings, client_id="bench-tracker", log_level=logging.DEBUG)
    register(broker, settings, engine, Changes(), TrackerMetrics(), ())
    await broker.start()
    await asyncio.Event().wait()


class Tracker:
    """A tracker process consuming in group ``group``."""

    def __init__(self, url: str, prefix: str, bootstrap: str) -> None:
        name = f"bench-tracker-{uuid.uuid4().hex[:6]}"
        self.group = f"{prefix}{name}"  # the group the tracker joins: ``settings.group`` prefixes it
        self.args = ["--serve", url, prefix, name, "--bootstrap", bootstrap]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            os.environ.get("LOA_BENCH_TRACKER_SCRIPT", __file__),  # a wrapper may trace the tracker
            *self.args,
            stderr=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )

    def rss_mb(self) -> dict[str, float]:
        """The tracker process's resident memory now (``VmRSS``) and at its peak (``VmHWM``), in MB."""
        assert self.process is not None
        return vm(self.process.pid)

    def cpu_s(self) -> float:
        """User + system CPU seconds of the tracker process so far."""
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    async def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()


def pg_database() -> tuple[str, Callable[[], None]]:
    name = f"loa_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql+asyncpg://loa@127.0.0.1:5432/{name}", drop


async def flame_graph(tracker: Tracker, label: str, seconds: float) -> asyncio.subprocess.Process | None:
    """With ``LOA_BENCH_TRACKER_FLAME=<path prefix>``, py-spy samples the tracker through the burst
    into ``<prefix>-<store>.svg`` (py-spy is a profiling tool, not a dependency: install it apart)."""
    prefix = os.environ.get("LOA_BENCH_TRACKER_FLAME")
    if not prefix:
        return None
    assert tracker.process is not None
    return await asyncio.create_subprocess_exec(
        py_spy(), "record", "--pid", str(tracker.process.pid), "--duration", str(round(seconds)),
        "--rate", "250", "--nonblocking", "--output", f"{prefix}-{label}.svg",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def cpu_figures(label: str, cpu_s: float, events: int) -> dict[str, float]:
    """The tracker's CPU per status event and per delivery (``len(STATES)`` events each), in ms.

    Issue #20's target is per delivery: the e2e bench's publishers send ~4-5 status events each.
    """
    per_event = 1000 * cpu_s / events
    return {f"{label}_cpu_ms_per_event": per_event, f"{label}_cpu_ms_per_delivery": per_event * len(STATES)}


async def run_store(
    label: str,
    url: str,
    bootstrap: str,
    backlog_topic_prefix: str,
    backlog: int,
    burst: list[tuple[bytes, bytes]],
    rate: float,
) -> dict[str, float]:
    out: dict[str, float] = {}
    # catch-up: the whole backlog from the start
    tracker = Tracker(url, backlog_topic_prefix, bootstrap)
    await tracker.start()
    _, rate_from_first_commit, cpu_s = await wait_lag_zero(
        bootstrap, tracker.group, f"{backlog_topic_prefix}{topics.DELIVERY}", tracker.cpu_s
    )
    out[f"{label}_catchup_events_per_s"] = rate_from_first_commit
    out |= cpu_figures(f"{label}_catchup", cpu_s, backlog)
    out[f"{label}_catchup_peak_rss_mb"] = tracker.rss_mb()["VmHWM"]
    await tracker.stop()
    # sustained: a running tracker, events arriving at `rate`
    prefix = f"bench-{uuid.uuid4().hex[:6]}."
    await create_topics(bootstrap, prefix)
    tracker = Tracker(url, prefix, bootstrap)
    await tracker.start()
    await asyncio.sleep(8)  # migrated, and the group has settled on its partitions
    idle_start, cpu_at_idle = time.monotonic(), tracker.cpu_s()
    await asyncio.sleep(IDLE_S)  # subscribed, nothing to read: the consumers' background work
    idle_cpu_s, idle_s = tracker.cpu_s() - cpu_at_idle, time.monotonic() - idle_start
    out[f"{label}_idle_cpu_ms_per_s"] = 1000 * idle_cpu_s / idle_s
    out[f"{label}_idle_rss_mb"] = tracker.rss_mb()["VmRSS"]
    topic = f"{prefix}{topics.DELIVERY}"
    profiler = await flame_graph(tracker, label, seconds=len(burst) / rate + 1)
    burst_start, cpu_at_start = time.monotonic(), tracker.cpu_s()
    burst_end = await produce(bootstrap, topic, burst, rate)
    zero, _, _ = await wait_lag_zero(bootstrap, tracker.group, topic, tracker.cpu_s)
    out |= cpu_figures(f"{label}_sustained", tracker.cpu_s() - cpu_at_start, len(burst))
    if profiler is not None:
        await profiler.wait()
    out[f"{label}_sustained_events_per_s"] = len(burst) / (zero - burst_start)
    out[f"{label}_lag_zero_after_burst_s"] = zero - burst_end
    out[f"{label}_offered_rate_events_per_s"] = len(burst) / (burst_end - burst_start)
    out[f"{label}_sustained_peak_rss_mb"] = tracker.rss_mb()["VmHWM"]
    await tracker.stop()
    return out


async def main(backlog: int, rate: float, seconds: float, bootstrap: str) -> dict[str, float]:
    logging.basicConfig(level=logging.WARNING)
    for name in ("faststream", "faststream.access.kafka"):
        logging.getLogger(name).setLevel(logging.WARNING)
    run = uuid.uuid4().hex[:6]
    prefix = f"bench-{run}."
    await create_topics(bootstrap, prefix)
    events = make_events(backlog, f"b{run}")
    await produce(bootstrap, f"{prefix}{topics.DELIVERY}", events, None)
    burst = make_events(int(rate * seconds), f"s{run}")
    results: dict[str, float] = {"backlog_events": backlog, "burst_events": len(burst)}
    results["raw_aiokafka_events_per_s"] = await raw_consume(bootstrap, f"{prefix}{topics.DELIVERY}", backlog)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        results |= await run_store("sqlite", sqlite_url, bootstrap, prefix, backlog, burst, rate)
    pg_url, drop = pg_database()
    try:
        results |= await run_store("postgresql", pg_url, bootstrap, prefix, backlog, burst, rate)
    finally:
        drop()
    return results


UNITS = {
    "_per_event": "ms CPU",
    "_per_delivery": "ms CPU",
    "_cpu_ms_per_s": "ms CPU per s",
    "_per_s": "events/s",
    "_s": "s",
    "_events": "events",
    "_mb": "MB",
    "_before": "(2 cores)",
    "_after": "(2 cores)",
}


def unit_of(name: str) -> str:
    return next(u for suffix, u in UNITS.items() if name.endswith(suffix))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backlog", type=int, default=40_000)
    parser.add_argument("--rate", type=float, default=5_000.0, help="offered rate of the sustained burst")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the sustained burst")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument(
        "--serve", nargs=3, metavar=("DB_URL", "TOPIC_PREFIX", "GROUP"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        # On uvloop, as the tracker runs in production (uvicorn's loop="auto" picks it when installed).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve_tracker(args.serve[0], args.serve[1], args.bootstrap, args.serve[2]))
        sys.exit(0)
    load_before = os.getloadavg()[0]
    figures = asyncio.run(main(args.backlog, args.rate, args.seconds, args.bootstrap))
    figures["load_average_1m_before"] = load_before
    figures["load_average_1m_after"] = os.getloadavg()[0]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "bench": "tracker",
        "targets": {
            "postgresql_catchup_events_per_s": ">= 5000",
            "postgresql_offered_rate_events_per_s": ">= 5000 (sustained input)",
            "postgresql_lag_zero_after_burst_s": "<= 2",
            "postgresql_sustained_cpu_ms_per_delivery": "<= 0.5 (issue #20)",
        },
        "cpu_count": os.cpu_count(),
        "figures": {k: round(v, 3) for k, v in figures.items()},
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    for name, value in figures.items():
        print(f"{name}: {value:.{3 if 'cpu_ms' in name else 1}f} {unit_of(name)}")

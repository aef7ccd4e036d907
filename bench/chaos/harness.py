"""Many replicas, proven (issue #22, item 2): ``python bench/chaos.py [--seconds 120] [--rate 2]``.

Starts its own sandbox (no added latency), ``--trackers`` trackers (one PostgreSQL database) and
``--replicas`` publisher processes per channel (webhook, facebook, zalo, youtube, x; each channel's
replicas share one PostgreSQL job store) against the shared Kafka, MinIO and PostgreSQL, under its
own topic prefix whose topics have ``--partitions`` partitions. It feeds ``--rate`` contents/s, each
to every channel, for ``--seconds``, and as long SIGKILLs a random replica every ``--interval`` s
(``bench/chaos/kills.py``: which, and how each recovery is timed) and starts it again at once. Then
it stops the feed, waits until every delivery is final in the tracker and every consumer group is
whole with nothing left to read, and judges the run against what the emulators received
(``bench/drills/verdict.py``): every delivery on its platform exactly once, the tracker showing each
one published with the id its platform gave it.

Prints each kill, then the figures last, one per line as ``name: value unit``, then the same as one
JSON line; everything in ``bench/results/chaos.json``. Exit status 1 on any duplicate, loss,
delivery not final, tracker mismatch, group not whole or lag left, or kill not recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.chaos.groups import POLL_S, Groups
from bench.chaos.kills import Chaos, Kill
from bench.chaos.replicas import ReplicaStack
from bench.drills.verdict import FINAL, Fed, Verdict, examples, judge
from bench.drills.verdict import rows as verdict_rows
from bench.e2e.load import create_topics, percentile, produce_at_rate, put_sample_media
from bench.e2e.measure import latency_stats
from bench.e2e.observe import Delivery, TrackerClient
from bench.e2e.report import machine
from bench.e2e.stack import CHANNELS, accounts_needed, channel_limits
from loa.events import utcnow
from loa.media import MediaStore
from loa.settings import REPO_ROOT, LoaSettings
from loa.testing.admin import sign_in_to_kafka_as_admin, use_pg_superuser_password
from services.sandbox.client import SandboxClient

RESULTS = REPO_ROOT / "bench" / "results" / "chaos.json"
SAMPLES = 5
"""Examples of each fault printed (the JSON has every one)."""
RATE = 2.0
"""Contents/s by default, each to every channel: 10 deliveries/s. The e2e bench measured ~18 ms of
CPU per delivery over every process (docs/benchmarks.md), so ~0.2 of a core; a restart costs ~1-2 s
of CPU and one comes every ~4.5 s (~0.3 core); 17 idle Loa processes, the sandbox, Kafka, MinIO and
PostgreSQL take their share, and other work shares these 2 cores. Twice as much would still fit,
but a starved machine times recoveries of the CPU, not of Loa."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120.0, help="feeding and killing time")
    parser.add_argument(
        "--interval", default="3-6", help="seconds between kills, MIN-MAX (drawn at random each time)"
    )
    parser.add_argument("--rate", type=float, default=RATE, help="contents/s, each to every channel")
    parser.add_argument("--seed", type=int, default=22, help="of the victims and intervals drawn")
    parser.add_argument("--replicas", type=int, default=3, help="publisher processes per channel")
    parser.add_argument("--trackers", type=int, default=2, help="tracker processes")
    parser.add_argument("--partitions", type=int, default=12, help="of every topic of the run")
    parser.add_argument("--channels", default=",".join(CHANNELS), help="comma-separated, of the e2e bench's")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="added to every platform call (more work in flight at a kill)",
    )
    parser.add_argument("--drain", type=float, default=300.0, help="max wait for the end after the feed")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)
    low, _, high = args.interval.partition("-")
    args.interval_s = (float(low), float(high or low))
    args.channel_list = [c for c in args.channels.split(",") if c]
    if unknown := set(args.channel_list) - set(CHANNELS):
        parser.error(f"--channels: {', '.join(sorted(unknown))} not among {', '.join(CHANNELS)}")
    return args


def make_pools(channels: list[str], contents: int, seconds: float) -> dict[str, list[str]]:
    """Enough accounts per channel that no adapter's per-account bucket defers a post."""
    limits = channel_limits()
    return {
        c: [f"{c}-chaos-{i}" for i in range(accounts_needed(limits[c], contents, seconds))] for c in channels
    }


async def drain(
    tracker: TrackerClient, groups: Groups, fed: list[Fed], since: datetime, limit: float
) -> tuple[float | None, list[Delivery]]:
    """Seconds until every delivery of ``fed`` is final in the tracker and every group is whole
    with no lag (None: not within ``limit``), and the deliveries as the tracker has them then."""
    started = time.monotonic()
    wanted = {(f.content_id, c) for f in fed for c in f.channels}
    deliveries: list[Delivery] = []
    while time.monotonic() - started < limit:
        try:
            deliveries = await tracker.deliveries(since, utcnow() + timedelta(hours=1))
        except httpx.HTTPError:
            deliveries = []
        final = {(d.content_id, d.channel) for d in deliveries if d.state in FINAL}
        if wanted <= final and groups.all_complete() and not any((await groups.lags()).values()):
            return time.monotonic() - started, deliveries
        await asyncio.sleep(1.0)
    return None, deliveries


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    contents = int(args.rate * args.seconds)
    stack = ReplicaStack(
        workdir,
        make_pools(args.channel_list, contents, args.seconds),
        tracker_db="postgresql",
        publisher_db="postgresql",
        log_level="INFO",  # the logs of a run that found faults are kept for whoever fixes them
        tag=f"chaos-{uuid.uuid4().hex[:8]}",
        replicas=args.replicas,
        trackers=args.trackers,
    )
    stack.build()
    settings = LoaSettings(topic_prefix=stack.topic_prefix, s3_media_bucket=stack.media_bucket)
    results: dict[str, Any] = {
        "topic_prefix": stack.topic_prefix,
        "channels": args.channel_list,
        "accounts_per_channel": {c: len(v) for c, v in stack.pools.items()},
        "load_average_before": list(os.getloadavg()),
    }
    groups = Groups(settings, args.partitions)
    try:
        media = put_sample_media(MediaStore(settings))
        await create_topics(settings, stack.topic_prefix, partitions=args.partitions)
        began = time.monotonic()
        tracker = stack.start_all()
        groups = await groups.start()
        with SandboxClient(stack.sandbox_url, timeout=30) as sandbox:
            for channel in args.channel_list:
                await asyncio.to_thread(sandbox.latency, channel, args.latency_ms)
        results["start_s"] = round(time.monotonic() - began, 1)
        results["groups_whole_at_start_s"] = await whole(groups, stack, 120.0)
        rng = random.Random(args.seed)
        chaos = Chaos(stack, groups, rng, args.interval_s)
        ids: list[str] = []
        pools = stack.pools
        since = utcnow()
        print(
            f"-- {args.rate:g} contents/s for {args.seconds:g} s, a kill every {args.interval} s", flush=True
        )
        chaos_began = time.monotonic()
        feeding = produce_at_rate(
            settings,
            args.rate,
            args.seconds,
            0,
            lambda n: {c: names[n % len(names)] for c, names in pools.items()},
            *media,
            ids,
        )
        connections = [0]
        sampling = asyncio.create_task(peak_connections(stack, connections))
        kills, _ = await asyncio.gather(chaos.run(args.seconds), feeding)
        fed_until = utcnow()
        fed = [Fed(i, "chaos", tuple(args.channel_list)) for i in ids]
        print(f"-- fed {len(ids)} contents, {len(kills)} kills; draining", flush=True)
        drained_s, deliveries = await drain(tracker, groups, fed, since, args.drain)
        sampling.cancel()
        await asyncio.sleep(2.0)  # the emulators' last records
        with SandboxClient(stack.sandbox_url, timeout=120) as sandbox:
            records = await asyncio.to_thread(sandbox.records)
        verdict = judge(fed, deliveries, records)
        results |= {
            "kills": [k.record(chaos_began) for k in kills],
            "kill_waited_s": round(chaos.waited_s, 1),
            "drain_s": None if drained_s is None else round(drained_s, 1),
            "groups_whole_at_end": groups.all_complete(),
            "lag_at_end": await groups.lags(),
            "verdict": asdict(verdict),
            "gaps_s": publishing_gaps(kills, deliveries, args.channel_list, fed_until),
            "latency": latency_stats([x for d in deliveries if (x := d.latency_s) is not None]),
            "peak_pg_connections": connections[0],
            "exited_on_their_own": [
                n for n, sv in stack.services.items() if sv.proc and sv.proc.poll() is not None
            ],
            "load_average_after": list(os.getloadavg()),
        }
        await tracker.close()
    finally:
        await groups.close()
        stack.stop()
    return results


async def peak_connections(stack: ReplicaStack, peak: list[int]) -> None:
    """Every 2 s, the PostgreSQL connections to the run's databases; the most seen in ``peak[0]``
    (each process has a pool of up to 15; the local server allows 200 in all)."""
    import psycopg

    def count() -> int:
        with psycopg.connect(stack.pg_admin_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE %s", (f"{stack.pg_database}%",)
            ).fetchone()
            return int(row[0]) if row else 0

    while True:
        with contextlib.suppress(psycopg.Error):
            peak[0] = max(peak[0], await asyncio.to_thread(count))
        await asyncio.sleep(2.0)


async def whole(groups: Groups, stack: ReplicaStack, limit: float) -> float | None:
    """Seconds until every group of the run is whole with every replica in it, three readings in a
    row (None: not within ``limit``): each service has groups, each of them Stable with every
    partition held once, and members a multiple of the service's replicas."""
    started, seen, steady = time.monotonic(), set[str](), 0
    channels = list(stack.pools)
    while time.monotonic() - started < limit:
        views = groups.latest
        ok = groups.all_complete() and all(
            (mine := groups.of(service, channels))
            and all(len(v.members) % len(names) == 0 for v in mine.values())
            for service, names in stack.members.items()
        )
        steady = steady + 1 if ok and set(views) == seen else 0
        seen = set(views)
        if steady >= 3:
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(POLL_S)
    return None


GAP_BEFORE_END_S = 5.0
"""A kill this close to the feed's end has no gap figure: the next post may be late for want of contents."""


def publishing_gaps(
    kills: list[Kill], deliveries: list[Delivery], channels: list[str], fed_until: datetime
) -> list[float]:
    """For each kill of a publisher while contents still came: seconds from the kill to the next
    post its channel published (by any replica; the tracker's ``published_at``)."""
    published = {
        c: sorted(d.published_at for d in deliveries if d.channel == c and d.published_at) for c in channels
    }
    gaps = []
    for kill in kills:
        if kill.at_utc > fed_until - timedelta(seconds=GAP_BEFORE_END_S):
            continue
        after = [t for t in published.get(kill.service, []) if t > kill.at_utc]
        if after:
            gaps.append(round((after[0] - kill.at_utc).total_seconds(), 2))
    return gaps


def spread(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    return min(values), percentile(values, 50), max(values)


def figures(r: dict[str, Any]) -> list[tuple[str, Any, str]]:
    kills = r["kills"]
    rows: list[tuple[str, Any, str]] = [
        *verdict_rows(Verdict(**r["verdict"])),
        ("kills", len(kills), ""),
        ("kills_of_trackers", sum(k["service"] == "tracker" for k in kills), ""),
        ("kills_with_jobs_in_flight", sum(bool(k["leased"]) for k in kills), ""),
        ("jobs_in_flight_at_kills", sum(sum(k["leased"].values()) for k in kills), ""),
        ("not_recovered", sum(k["recovered_s"] is None for k in kills), ""),
    ]
    for key, name in (("recovered_s", "recover"), ("ready_s", "ready"), ("rejoined_s", "groups_whole")):
        low, mid, high = spread([k[key] for k in kills if k[key] is not None])
        rows += [(f"{name}_min", low, "s"), (f"{name}_p50", mid, "s"), (f"{name}_max", high, "s")]
    low, mid, high = spread(r["gaps_s"])
    rows += [("channel_gap_after_kill_p50", mid, "s"), ("channel_gap_after_kill_max", high, "s")]
    rows += [(f"latency_{p}", round(r["latency"][f"{p}_ms"]), "ms") for p in ("p50", "p99", "max")]
    rows += [
        ("drain", r["drain_s"], "s"),
        ("groups_whole_at_end", int(r["groups_whole_at_end"]), ""),
        ("lag_at_end", sum(r["lag_at_end"].values()), "events"),
        ("peak_pg_connections", r["peak_pg_connections"], ""),
        ("exited_on_their_own", len(r["exited_on_their_own"]), ""),
        ("load_average_1min_after", round(r["load_average_after"][0], 1), ""),
    ]
    return rows


def passed(r: dict[str, Any]) -> bool:
    return (
        Verdict(**r["verdict"]).clean
        and r["drain_s"] is not None
        and r["groups_whole_at_end"]
        and not any(r["lag_at_end"].values())
        and all(k["recovered_s"] is not None for k in r["kills"])
        and not r["exited_on_their_own"]
    )


def report(r: dict[str, Any], path: Path) -> None:
    for line in examples(Verdict(**r["verdict"]), SAMPLES):
        print(f"   {line}")
    for n, k in enumerate(r["kills"], 1):
        print(
            f"   kill {n} at {k['t_s']} s: {k['replica']}: ready {k['ready_s']} s, "
            f"groups whole {k['rejoined_s']} s, recovered {k['recovered_s']} s; leased {k['leased']}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(r, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    for name, value, unit in figures(r):
        print(f"{name}: {value} {unit}".rstrip())
    print(json.dumps({name: value for name, value, _ in figures(r)}))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, report, and return the results (``passed`` says whether the run was clean)."""
    args = parse_args(argv)
    # The run's topics, groups and databases are its own: it and its services act as the admins.
    sign_in_to_kafka_as_admin()
    use_pg_superuser_password()
    workdir = Path(tempfile.mkdtemp(prefix="loa-chaos-"))
    began = time.monotonic()
    results = asyncio.run(drive(args, workdir))
    results |= {
        "command": "PYTHONPATH=shared:. python bench/chaos.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "date": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {
            k: getattr(args, k)
            for k in (
                "seconds",
                "interval",
                "rate",
                "seed",
                "replicas",
                "trackers",
                "partitions",
                "latency_ms",
            )
        },
        "total_s": round(time.monotonic() - began, 1),
    }
    results["passed"] = passed(results)
    report(results, args.results)
    if results["passed"]:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"faults found; the services' logs are in {workdir}")
    return results


def run() -> int:
    return 0 if main()["passed"] else 1

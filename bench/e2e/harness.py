"""Issue 11: approval → published on every channel, at fixed rates, against the machine's own limit.

    PYTHONPATH=shared:. python bench/e2e.py                       # 10, 50, 200 contents/s, 60 s each
    PYTHONPATH=shared:. python bench/e2e.py --rates 10,50 --seconds 15 --relay-contents 5000

Starts its own sandbox and one publisher process per channel (``python -m services.<channel>``) on
free ports, against the shared Kafka and MinIO (unique topic prefix and bucket; never stopped here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.e2e.load import Tracker, create_topics, produce_at_rate, put_sample_media
from bench.e2e.measure import ProcessSampler, phase_figures, sandbox_check, stack_pids
from bench.e2e.report import write_all
from bench.e2e.stack import CHANNELS, BenchStack, accounts_needed, channel_limits
from loa.events import ContentApproved
from loa.media import MediaStore
from loa.settings import LoaSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="10,50,200", help="contents/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="sending time per rate")
    parser.add_argument("--drain", type=float, default=60.0, help="max wait for the backlog after sending")
    parser.add_argument("--slow-platform", default="facebook", help="the platform made slow ('' = skip)")
    parser.add_argument("--slow-ms", type=int, default=2000)
    parser.add_argument("--slow-rate", type=float, default=None, help="default: the first rate")
    parser.add_argument("--relay-contents", type=int, default=20_000, help="contents for the bare relay")
    return parser.parse_args(argv)


def make_pools(
    rates: list[float], seconds: float, slow_rate: float | None
) -> tuple[dict[str, list[str]], list[str]]:
    """Accounts per channel and phase, enough that no adapter's per-account bucket holds a phase back."""
    limits = channel_limits()
    phases, phase_rates = phase_plan(rates, slow_rate)
    pools: dict[str, list[str]] = {c: [] for c in CHANNELS}
    for phase, rate in zip(phases, phase_rates, strict=True):
        for channel in CHANNELS:
            k = accounts_needed(limits[channel], int(rate * seconds), seconds)
            pools[channel] += [f"{channel}-{phase}-{i}" for i in range(k)]
    return pools, phases


def set_latency(sandbox_url: str, platform: str, ms: int) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/latency", params={"platform": platform, "ms": ms}).raise_for_status()


def phase_plan(rates: list[float], slow_rate: float | None) -> tuple[list[str], list[float]]:
    """Phases in order; the slow-platform run comes right after the fast run at its rate, before a
    higher rate can leave a backlog behind."""
    phases = [f"r{int(r)}" for r in rates]
    phase_rates = list(rates)
    if slow_rate:
        at = phase_rates.index(slow_rate) + 1 if slow_rate in phase_rates else len(phases)
        phases.insert(at, "slow")
        phase_rates.insert(at, slow_rate)
    return phases, phase_rates


def picker(pools: dict[str, list[str]], phase: str) -> Any:
    mine = {c: [a for a in names if f"-{phase}-" in a] for c, names in pools.items()}
    return lambda n: {c: names[n % len(names)] for c, names in mine.items()}


async def run_phase(
    settings: LoaSettings,
    tracker: Tracker,
    rate: float,
    seconds: float,
    drain: float,
    first: int,
    pick: Any,
    media: tuple[Any, Any],
) -> tuple[list[str], dict[str, Any]]:
    backlog: list[tuple[float, int, int]] = []
    sending = time.monotonic()
    ids = await produce_at_rate(settings, rate, seconds, first, pick, media[0], media[1], tracker, backlog)
    sent_rate = len(ids) / (time.monotonic() - sending)
    sent_at_end = sum(tracker.targets[i] for i in ids)
    left_at_end = sent_at_end - tracker.done(ids)
    started = time.monotonic()
    while tracker.done(ids) < sent_at_end and time.monotonic() - started < drain:  # noqa: ASYNC110 - polling a count
        await asyncio.sleep(0.2)
    drained = time.monotonic() - started
    per_second = rate * len(CHANNELS)
    lag = {
        "offered_contents_per_s": sent_rate,
        "left_when_sending_stopped": left_at_end,
        "drain_s": drained,
        "drained": tracker.done(ids) >= sent_at_end,
        # Bounded: at most 2 s of work waiting when the feed stops, and all of it gone within the drain.
        "bounded": left_at_end <= 2 * per_second and tracker.done(ids) >= sent_at_end,
        "samples": backlog,
    }
    return ids, lag


async def relay_limit(
    settings: LoaSettings, prefix: str, contents: int, pick: Any, media: tuple[Any, Any]
) -> tuple[dict[str, float], dict[str, float]]:
    """Fill a topic with ``contents`` approvals, then time the bare relay (its own process) over them."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from bench.e2e.load import content

    source, sink = f"{prefix}relay.content", f"{prefix}relay.delivery"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20)
    await producer.start()
    for n in range(contents):
        c = content(9_000_000 + n, pick(n), media[0], media[1])
        await producer.send(source, ContentApproved(payload=c).model_dump_json().encode(), key=c.id.encode())
    await producer.flush()
    await producer.stop()
    proc = subprocess.Popen(  # noqa: ASYNC220 - waited for in a thread below
        [sys.executable, "-m", "bench.e2e.relay", settings.kafka_bootstrap, source, sink, str(contents)],
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    sampler = ProcessSampler({"bare-relay": proc.pid}).start()
    out, _ = await asyncio.to_thread(proc.communicate)
    cost = sampler.stop()["bare-relay"]
    return json.loads(out), cost


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r]
    slow_rate = (args.slow_rate or rates[0]) if args.slow_platform else None
    pools, phases = make_pools(rates, args.seconds, slow_rate)
    workdir = Path(tempfile.mkdtemp(prefix="loa-bench-e2e-"))
    stack = BenchStack(workdir, pools)
    stack.build()
    settings = LoaSettings(topic_prefix=stack.topic_prefix, s3_media_bucket=stack.media_bucket)
    results: dict[str, Any] = {
        "command": "PYTHONPATH=shared:. python bench/e2e.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "channels": list(CHANNELS),
        "topic_prefix": stack.topic_prefix,
        "accounts_per_channel": {c: len(v) for c, v in pools.items()},
        "phases": {},
        "load_average_before": list(os.getloadavg()),
    }
    media = put_sample_media(MediaStore(settings))
    await create_topics(settings, stack.topic_prefix)
    try:
        sandbox_s = stack.start_sandbox()
        stack.seed_accounts()
        cold = stack.start_publishers()
        stack.stop_publishers()
        warm = stack.start_publishers()
        results["start"] = {"sandbox_s": sandbox_s, "publishers_first_s": cold, "publishers_restart_s": warm}
        sampler = ProcessSampler({**stack.pids(), **stack_pids()}).start()
        tracker = await Tracker(settings).start()
        first = 0
        for phase, rate in zip(*phase_plan(rates, slow_rate), strict=True):
            slow = phase == "slow"
            if slow:
                await asyncio.to_thread(set_latency, stack.sandbox_url, args.slow_platform, args.slow_ms)
            print(f"-- phase {phase}: {rate:g} contents/s for {args.seconds:g} s", flush=True)
            ids, lag = await run_phase(
                settings, tracker, rate, args.seconds, args.drain, first, picker(pools, phase), media
            )
            first += len(ids)
            figures = phase_figures(tracker, ids, list(CHANNELS))
            figures["lag"] = lag
            figures["rate"] = rate
            figures["sandbox_check"] = sandbox_check(stack.sandbox_url, tracker, ids, list(CHANNELS))
            if slow:
                figures["slow_platform"] = {"platform": args.slow_platform, "ms": args.slow_ms}
                await asyncio.to_thread(set_latency, stack.sandbox_url, args.slow_platform, 0)
            results["phases"][phase] = figures
        await tracker.stop()
        results["processes"] = sampler.stop()
        results["load_average_after"] = list(os.getloadavg())
        relay, relay_cost = await relay_limit(
            settings, stack.topic_prefix, args.relay_contents, picker(pools, phases[0]), media
        )
        results["relay"] = relay | relay_cost
    finally:
        stack.stop()
    write_all(results)
    return results


def run() -> None:
    asyncio.run(main())

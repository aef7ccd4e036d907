"""Issue 11: approval → published on every channel, at fixed rates, against the machine's own limit.

    PYTHONPATH=shared:. python bench/e2e.py                       # 10, 20, 30, 50, 200 contents/s, 60 s each
    PYTHONPATH=shared:. python bench/e2e.py --rates 10,50 --seconds 15 --relay-contents 5000

Starts its own sandbox, the tracker (``python -m services.tracker``, a fresh PostgreSQL database) and
one publisher process per channel (``python -m services.<channel>``) on free ports, against the
shared Kafka, MinIO and PostgreSQL (unique topic prefix, bucket and database; never stopped here).
Latencies are the tracker's stored times, read over its REST API; a phase's backlog is what the
tracker has not seen end, and its lag and every publisher's are sampled from their ``/metrics``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.e2e.load import create_topics, produce_at_rate, put_sample_media
from bench.e2e.measure import ProcessSampler, phase_figures, sandbox_check, stack_pids
from bench.e2e.observe import PhaseWatch, TrackerClient
from bench.e2e.reference import create_status_topic, phase_work, seed_endpoints, work_done
from bench.e2e.report import write_all
from bench.e2e.stack import CHANNELS, BenchStack, Service, accounts_needed, channel_limits
from loa.events import ContentApproved, utcnow
from loa.kafka_security import client_security
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.admin import sign_in_to_kafka_as_admin, use_pg_superuser_password
from services.sandbox.client import SandboxClient


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rates",
        default="10,20,30,50,200",
        help="contents/s, comma-separated (the issue's 10, 50, 200 and steps between them)",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="sending time per rate")
    parser.add_argument("--drain", type=float, default=60.0, help="max wait for the backlog after sending")
    parser.add_argument(
        "--settle", type=float, default=180.0, help="max wait before a phase for earlier backlogs to clear"
    )
    parser.add_argument("--slow-platform", default="facebook", help="the platform made slow ('' = skip)")
    parser.add_argument("--slow-ms", type=int, default=2000)
    parser.add_argument("--slow-rate", type=float, default=None, help="default: the first rate")
    parser.add_argument(
        "--realistic",
        default=",".join(f"{p}={ms}" for p, ms in REALISTIC_MS.items()),
        help="ms per call per platform for a phase at the first rate with media processing on ('' = skip)",
    )
    parser.add_argument("--relay-contents", type=int, default=20_000, help="contents for the bare relay")
    parser.add_argument(
        "--start-timeout", type=float, default=120.0, help="max wait for the services to answer at each start"
    )
    parser.add_argument(
        "--tracker-db", choices=("postgresql", "sqlite"), default="postgresql", help="the tracker's store"
    )
    return parser.parse_args(argv)


REALISTIC_MS = {"webhook": 200, "facebook": 500, "zalo": 400, "youtube": 800, "x": 300}
"""Latency per call of the realistic phase (issue 11: "e.g. 200-800 ms, plus video processing")."""


def make_pools(
    rates: list[float], seconds: float, slow_rate: float | None, real_rate: float | None
) -> tuple[dict[str, list[str]], list[str]]:
    """Accounts per channel and phase, enough that no adapter's per-account bucket holds a phase back."""
    limits = channel_limits()
    phases, phase_rates = phase_plan(rates, slow_rate, real_rate)
    pools: dict[str, list[str]] = {c: [] for c in CHANNELS}
    for phase, rate in zip(phases, phase_rates, strict=True):
        for channel in CHANNELS:
            k = accounts_needed(limits[channel], int(rate * seconds), seconds)
            pools[channel] += [f"{channel}-{phase}-{i}" for i in range(k)]
    return pools, phases


def realistic(sandbox: SandboxClient, latency: dict[str, int], on: bool) -> None:
    """Platform latency and media processing on (or back to zero) for every platform."""
    for platform, ms in latency.items():
        sandbox.latency(platform, ms if on else 0)
        sandbox.processing(platform, 1 if on else 0)


def phase_plan(
    rates: list[float], slow_rate: float | None, real_rate: float | None = None
) -> tuple[list[str], list[float]]:
    """Phases in order; the slow-platform and realistic runs come right after the fast run at their
    rate, before a higher rate can leave a backlog behind."""
    phases = [f"r{int(r)}" for r in rates]
    phase_rates = list(rates)
    for name, rate in (("real", real_rate), ("slow", slow_rate)):
        if rate:
            at = phase_rates.index(rate) + 1 if rate in phase_rates else len(phases)
            phases.insert(at, name)
            phase_rates.insert(at, rate)
    return phases, phase_rates


def picker(pools: dict[str, list[str]], phase: str) -> Any:
    mine = {c: [a for a in names if f"-{phase}-" in a] for c, names in pools.items()}
    return lambda n: {c: names[n % len(names)] for c, names in mine.items()}


def settled(tracker: dict[str, int], publishers: dict[str, int]) -> bool:
    """Every lag back to 0: the tracker's on both its topics, each publisher's intake."""
    return (
        len(tracker) == 2
        and len(publishers) == len(CHANNELS)
        and not any(tracker.values())
        and not any(publishers.values())
    )


async def settle(client: TrackerClient, since: datetime, sent: int, limit: float) -> float | None:
    """Before a phase: wait (up to ``limit`` s) until every delivery sent so far has ended and every
    lag is 0, so no earlier backlog is measured again. Seconds waited, or None if it never cleared."""
    started = time.monotonic()
    while True:
        ended, lags = await asyncio.gather(client.ended(since), client.lags())
        if ended >= sent and settled(lags["tracker"], lags["publishers"]):
            return time.monotonic() - started
        if time.monotonic() - started >= limit:
            return None
        await asyncio.sleep(1.0)


def platform_calls(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Requests each emulator received between two ``/_sandbox/stats`` (the reference's included)."""
    return {p: s["requests"] - before.get(p, {}).get("requests", 0) for p, s in after.items()}


def peaks(samples: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in samples:
        for name, n in s[key].items():
            out[name] = max(out.get(name, 0), n)
    return out


async def run_phase(
    settings: LoaSettings,
    client: TrackerClient,
    rate: float,
    seconds: float,
    drain: float,
    first: int,
    pick: Any,
    media: tuple[Any, Any],
) -> tuple[list[str], dict[str, Any], tuple[datetime, datetime]]:
    """Send for ``seconds``, then wait (up to ``drain``) until the tracker has every delivery ended
    and every lag is back to 0. Returns the ids, the lag record, and the approval window."""
    ids: list[str] = []
    since = utcnow()
    watch = PhaseWatch(client, since, ids, len(CHANNELS)).start()
    sending = time.monotonic()
    await produce_at_rate(settings, rate, seconds, first, pick, media[0], media[1], ids)
    until = utcnow()
    sent_rate = len(ids) / (time.monotonic() - sending)
    await watch.stop()
    sent = len(ids) * len(CHANNELS)
    at_end = await watch.sample()
    started = time.monotonic()
    drain_s = settled_s = None
    sample = at_end
    while True:
        now = time.monotonic() - started
        if drain_s is None and sample["ended"] >= sent:
            drain_s = now
        if drain_s is not None and settled(sample["tracker_lag"], sample["publisher_lag"]):
            settled_s = now
            break
        if now >= drain:
            break
        await asyncio.sleep(0.5)
        sample = await watch.sample()
    per_second = rate * len(CHANNELS)
    left_at_end = sent - at_end["ended"]
    lag = {
        "offered_contents_per_s": sent_rate,
        "left_when_sending_stopped": left_at_end,
        "drain_s": drain_s if drain_s is not None else time.monotonic() - started,
        "drained": drain_s is not None,
        "lags_settled_s": settled_s,
        "tracker_lag_peak": peaks(watch.samples, "tracker_lag"),
        "tracker_lag_end": sample["tracker_lag"],
        "publisher_lag_peak": peaks(watch.samples, "publisher_lag"),
        "publisher_lag_end": sample["publisher_lag"],
        # Bounded: at most 2 s of work waiting when the feed stops; within the drain, every delivery
        # ended in the tracker and the tracker's and every publisher's consumer lag back to 0.
        "bounded": left_at_end <= 2 * per_second and settled_s is not None,
        "samples": watch.samples,
    }
    return ids, lag, (since, until)


async def relay_limit(
    settings: LoaSettings, prefix: str, contents: int, pick: Any, media: tuple[Any, Any]
) -> tuple[dict[str, float], dict[str, float]]:
    """Fill a topic with ``contents`` approvals, then time the bare relay (its own process) over them."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from bench.e2e.load import content

    source, sink = f"{prefix}relay.content", f"{prefix}relay.delivery"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await admin.start()
    await admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, **client_security(settings), acks="all", linger_ms=20
    )
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
    # The bench's topics, groups and databases are its own: it and its services act as the admins
    # (LOA_KAFKA_SECURITY_PROTOCOL=PLAINTEXT in the environment: a broker without TLS or SASL).
    sign_in_to_kafka_as_admin()
    use_pg_superuser_password()
    rates = [float(r) for r in args.rates.split(",") if r]
    slow_rate = (args.slow_rate or rates[0]) if args.slow_platform else None
    latency = {p: int(ms) for p, _, ms in (x.partition("=") for x in args.realistic.split(",") if x)}
    real_rate = rates[0] if latency else None
    pools, phases = make_pools(rates, args.seconds, slow_rate, real_rate)
    workdir = Path(tempfile.mkdtemp(prefix="loa-bench-e2e-"))
    stack = BenchStack(workdir, pools, tracker_db=args.tracker_db)
    stack.build()
    settings = LoaSettings(topic_prefix=stack.topic_prefix, s3_media_bucket=stack.media_bucket)
    results: dict[str, Any] = {
        "command": "PYTHONPATH=shared:. python bench/e2e.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "channels": list(CHANNELS),
        "topic_prefix": stack.topic_prefix,
        "kafka_security_protocol": settings.kafka_security_protocol,
        "accounts_per_channel": {c: len(v) for c, v in pools.items()},
        "phases": {},
        "load_average_before": list(os.getloadavg()),
    }
    media = put_sample_media(MediaStore(settings))
    await create_topics(settings, stack.topic_prefix)
    await create_status_topic(settings)
    reference: Service | None = None
    try:
        sandbox_s = stack.start_sandbox()
        stack.seed_accounts()
        reference = stack.reference(seed_endpoints(stack))
        stack.create_databases()
        cold = stack.start_services(args.start_timeout)
        stack.stop_services()
        warm = stack.start_services(args.start_timeout)
        results["start"] = {"sandbox_s": sandbox_s, "services_first_s": cold, "services_restart_s": warm}
        results["tracker_db"] = args.tracker_db
        reference.start()  # on the same stream from its start, in its own group (bench/reference)
        assert reference.proc is not None
        sampler = ProcessSampler({**stack.pids(), "reference": reference.proc.pid, **stack_pids()}).start()
        sandbox = SandboxClient(stack.sandbox_url, timeout=30)
        metrics = {n: s.metrics for n, s in stack.services.items() if s.metrics}
        client = TrackerClient(stack.tracker_url, stack.tracker_token, metrics)
        first = 0
        run_since = utcnow()
        for phase, rate in zip(*phase_plan(rates, slow_rate, real_rate), strict=True):
            slow, real = phase == "slow", phase == "real"
            waited = await settle(client, run_since, first * len(CHANNELS), args.settle) if first else 0.0
            if slow:
                await asyncio.to_thread(sandbox.latency, args.slow_platform, args.slow_ms)
            if real:
                await asyncio.to_thread(realistic, sandbox, latency, True)
            print(f"-- phase {phase}: {rate:g} contents/s for {args.seconds:g} s", flush=True)
            cpu_before = sampler.cpu_now()
            calls_before, ref_before = await asyncio.to_thread(sandbox.stats), work_done(stack)
            ids, lag, (since, until) = await run_phase(
                settings, client, rate, args.seconds, args.drain, first, picker(pools, phase), media
            )
            first += len(ids)
            cpu_after = sampler.cpu_now()
            calls_after, ref_after = await asyncio.to_thread(sandbox.stats), work_done(stack)
            reading = time.monotonic()
            deliveries = await client.deliveries(since, until)
            figures = phase_figures(deliveries, ids, list(CHANNELS))
            figures["tracker_read_s"] = time.monotonic() - reading
            figures["lag"] = lag
            figures["settled_before_s"] = waited
            figures["cpu_s"] = {n: cpu_after[n] - cpu_before[n] for n in cpu_after}
            figures["rate"] = rate
            figures["reference"] = phase_work(ref_before, ref_after)
            figures["platform_calls"] = platform_calls(calls_before, calls_after)
            figures["sandbox_check"] = await asyncio.to_thread(
                sandbox_check, stack.sandbox_url, deliveries, list(CHANNELS)
            )
            if slow:
                figures["slow_platform"] = {"platform": args.slow_platform, "ms": args.slow_ms}
                await asyncio.to_thread(sandbox.latency, args.slow_platform, 0)
            if real:
                figures["platform_latency_ms"] = latency
                await asyncio.to_thread(realistic, sandbox, latency, False)
            results["phases"][phase] = figures
        await client.close()
        sandbox.close()
        results["processes"] = sampler.stop()
        results["load_average_after"] = list(os.getloadavg())
        reference.stop()
        stack.stop_services()  # a backlog left by the last phase must not share the cores with the relay
        relay, relay_cost = await relay_limit(
            settings, stack.topic_prefix, args.relay_contents, picker(pools, phases[0]), media
        )
        results["relay"] = relay | relay_cost
    finally:
        if reference is not None:
            reference.stop()
        stack.stop()
    write_all(results)
    return results


def run() -> None:
    asyncio.run(main())

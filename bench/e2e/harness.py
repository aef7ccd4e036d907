"""Issue 11: approval → published on every channel, at fixed rates, against the machine's own limit.

    PYTHONPATH=shared:. python bench/e2e.py                       # 10, 20, 30, 50, 200 contents/s, 60 s each
    PYTHONPATH=shared:. python bench/e2e.py --rates 10,50 --seconds 15 --relay-contents 5000

Starts its own sandbox, its own Mailpit (SMTP and API on free ports), the tracker (``python -m
services.tracker``, a fresh PostgreSQL database) and one publisher process per channel (``python -m
services.<channel>``) on free ports, against the shared Kafka, MinIO and PostgreSQL (unique topic
prefix, bucket and database; never stopped here). Every content targets webhook, Facebook, Zalo,
YouTube and X; a share of them targets e-mail (a press list added through the tracker's API) and
TikTok (the video), within those platforms' limits (``bench/e2e/shares.py``). Latencies are the
tracker's stored times, read over its REST API; a phase's backlog is what the tracker has not seen
end, and its lag and every publisher's are sampled from their ``/metrics``.
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

from bench.e2e.fair import OVERLOAD, OVERLOAD_AUTO_TIMES, OVERLOAD_CEILING, auto_overload_rate, peak_before
from bench.e2e.load import create_topics, produce_at_rate, put_sample_media
from bench.e2e.mailpit import mailpit_check
from bench.e2e.measure import ProcessSampler, phase_figures, sandbox_check, stack_pids
from bench.e2e.observe import PhaseWatch, TrackerClient, sample_cost
from bench.e2e.reference import create_status_topic, phase_work, seed_endpoints, work_done
from bench.e2e.report import write_all
from bench.e2e.shares import DEFAULT_CAPS, Shares, accounts_for, check_caps, shares_at
from bench.e2e.stack import (
    BENCHED,
    EMULATED,
    PACED,
    PRESS_LIST_SIZE,
    REFERENCE_CLIENT,
    BenchStack,
    Service,
)
from bench.reference.request import CLIENTS
from loa.events import ContentApproved, topics, utcnow
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
    parser.add_argument(
        "--overload",
        default="auto",
        help="contents/s of a last phase, 'over' (issue #20: >= 4x the run's peak); 'auto': "
        f"{OVERLOAD_AUTO_TIMES:g}x the peak before it, at most {OVERLOAD_CEILING:g}/s; 0 = skip",
    )
    parser.add_argument("--overload-seconds", type=float, default=60.0, help="sending time of the overload")
    parser.add_argument(
        "--overload-drain", type=float, default=900.0, help="max wait for the overload's backlog"
    )
    parser.add_argument("--relay-contents", type=int, default=20_000, help="contents for the bare relay")
    parser.add_argument(
        "--start-timeout", type=float, default=120.0, help="max wait for the services to answer at each start"
    )
    parser.add_argument(
        "--tracker-db", choices=("postgresql", "sqlite"), default="postgresql", help="the tracker's store"
    )
    parser.add_argument(
        "--email-rate", type=float, default=DEFAULT_CAPS["email"], help="contents/s to e-mail at most"
    )
    parser.add_argument(
        "--tiktok-rate", type=float, default=DEFAULT_CAPS["tiktok"], help="contents/s to TikTok at most"
    )
    parser.add_argument("--press-list", type=int, default=PRESS_LIST_SIZE, help="journalists per press list")
    parser.add_argument(
        "--label", default="", help="record as a run of its own: e2e-LABEL.json, its plots and doc section"
    )
    args = parser.parse_args(argv)
    args.caps = {"email": args.email_rate, "tiktok": args.tiktok_rate}
    # planned (accounts, phases) at the ceiling when automatic; the rate is chosen when the phase comes
    args.overload_auto = args.overload == "auto"
    try:
        args.overload = OVERLOAD_CEILING if args.overload_auto else float(args.overload)
    except ValueError:
        parser.error(f"--overload: 'auto' or contents/s, not {args.overload!r}")
    if args.press_list < 1:
        parser.error("--press-list: at least 1 journalist")
    if reason := check_caps(args.caps, args.press_list):
        parser.error(reason)
    return args


REALISTIC_MS = {"webhook": 200, "facebook": 500, "zalo": 400, "youtube": 800, "x": 300, "tiktok": 500}
"""Latency per call of the realistic phase (issue 11: "e.g. 200-800 ms, plus video processing")."""


def make_pools(
    rates: list[float],
    seconds: float,
    slow_rate: float | None,
    real_rate: float | None,
    caps: dict[str, float] = DEFAULT_CAPS,
    over: tuple[float, float] = (0.0, 0.0),
) -> tuple[dict[str, list[str]], list[str]]:
    """Accounts per channel and phase, enough that no per-account limit holds a phase back (the
    adapters' buckets, TikTok's daily cap); ``over``: the overload's rate and seconds."""
    phases, phase_rates = phase_plan(rates, slow_rate, real_rate, over[0])
    pools: dict[str, list[str]] = {c: [] for c in BENCHED}
    for phase, rate in zip(phases, phase_rates, strict=True):
        shares = shares_at(rate, caps)
        span = over[1] if phase == OVERLOAD else seconds
        for channel in BENCHED:
            k = accounts_for(channel, shares.count(channel, int(rate * span)), span)
            pools[channel] += [f"{channel}-{phase}-{i}" for i in range(k)]
    return pools, phases


def realistic(sandbox: SandboxClient, latency: dict[str, int], on: bool) -> None:
    """Platform latency and media processing on (or back to zero) for every platform."""
    for platform, ms in latency.items():
        sandbox.latency(platform, ms if on else 0)
        sandbox.processing(platform, 1 if on else 0)


def phase_plan(
    rates: list[float], slow_rate: float | None, real_rate: float | None = None, over_rate: float = 0.0
) -> tuple[list[str], list[float]]:
    """Phases in order; the slow-platform and realistic runs come right after the fast run at their
    rate, before a higher rate can leave a backlog behind; the overload (``OVERLOAD``) last."""
    phases = [f"r{int(r)}" for r in rates]
    phase_rates = list(rates)
    for name, rate in (("real", real_rate), ("slow", slow_rate)):
        if rate:
            at = phase_rates.index(rate) + 1 if rate in phase_rates else len(phases)
            phases.insert(at, name)
            phase_rates.insert(at, rate)
    if over_rate:
        phases.append(OVERLOAD)
        phase_rates.append(over_rate)
    return phases, phase_rates


def picker(pools: dict[str, list[str]], phase: str, shares: Shares) -> Any:
    """Content ``n`` of ``phase`` → its targets' accounts, each channel's accounts taken in turn."""
    mine = {c: [a for a in names if f"-{phase}-" in a] for c, names in pools.items()}

    def pick(n: int) -> dict[str, str]:
        return {c: mine[c][(n // shares.every[c]) % len(mine[c])] for c in shares.targets(n)}

    return pick


def settled(tracker: dict[str, int], publishers: dict[str, int]) -> bool:
    """Every lag back to 0: the tracker's on each topic it reads (contents and deliveries at least:
    it reads the audit and engagement topics too), each publisher's intake."""
    return (
        {topics.CONTENT, topics.DELIVERY} <= set(tracker)
        and len(publishers) == len(BENCHED)
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
    pools: dict[str, list[str]],
    phase: str,
    caps: dict[str, float],
    media: tuple[Any, Any],
) -> tuple[list[str], dict[str, Any], tuple[datetime, datetime]]:
    """Send for ``seconds``, then wait (up to ``drain``) until the tracker has every delivery ended
    and every lag is back to 0. Returns the ids, the lag record, and the approval window."""
    ids: list[str] = []
    since = utcnow()
    shares = shares_at(rate, caps)
    watch = PhaseWatch(client, since, ids, shares.deliveries).start()
    sending = time.monotonic()
    pick = picker(pools, phase, shares)
    await produce_at_rate(settings, rate, seconds, first, pick, media[0], media[1], ids)
    until = utcnow()
    sent_rate = len(ids) / (time.monotonic() - sending)
    await watch.stop()
    sent = shares.deliveries(len(ids))
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
    per_second = rate * shares.per_content()
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
    if REFERENCE_CLIENT not in CLIENTS:  # before anything starts, not as a reference that died
        raise SystemExit(f"LOA_BENCH_REFERENCE_CLIENT={REFERENCE_CLIENT!r}: not one of {', '.join(CLIENTS)}")
    # The bench's topics, groups and databases are its own: it and its services act as the admins
    # (LOA_KAFKA_SECURITY_PROTOCOL=PLAINTEXT in the environment: a broker without TLS or SASL).
    sign_in_to_kafka_as_admin()
    use_pg_superuser_password()
    rates = [float(r) for r in args.rates.split(",") if r]
    slow_rate = (args.slow_rate or rates[0]) if args.slow_platform else None
    latency = {p: int(ms) for p, _, ms in (x.partition("=") for x in args.realistic.split(",") if x)}
    real_rate = rates[0] if latency else None
    over = (args.overload, args.overload_seconds)
    pools, phases = make_pools(rates, args.seconds, slow_rate, real_rate, args.caps, over)
    plan = list(zip(*phase_plan(rates, slow_rate, real_rate, args.overload), strict=True))
    workdir = Path(tempfile.mkdtemp(prefix="loa-bench-e2e-"))
    stack = BenchStack(workdir, pools, tracker_db=args.tracker_db)
    stack.build()
    settings = LoaSettings(topic_prefix=stack.topic_prefix, s3_media_bucket=stack.media_bucket)
    results: dict[str, Any] = {
        "command": "PYTHONPATH=shared:. python bench/e2e.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "channels": list(BENCHED),
        "label": args.label,
        "reference_client": REFERENCE_CLIENT,
        "press_list": args.press_list,
        "paced": {  # one content in ``every`` targets the channel, per phase
            phase: {c: shares_at(rate, args.caps).every[c] for c in PACED} for phase, rate in plan
        },
        "paced_caps": args.caps,
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
        results["press_lists_s"] = await asyncio.to_thread(stack.add_press_lists, args.press_list)
        results["tracker_db"] = args.tracker_db
        reference.start()  # on the same stream from its start, in its own group (bench/reference)
        assert reference.proc is not None
        sampler = ProcessSampler({**stack.pids(), "reference": reference.proc.pid, **stack_pids()}).start()
        sandbox = SandboxClient(stack.sandbox_url, timeout=30)
        metrics = {n: s.metrics for n, s in stack.services.items() if s.metrics}
        client = TrackerClient(stack.tracker_url, stack.tracker_token, metrics)
        first = sent_so_far = 0
        run_since = utcnow()
        for phase, rate in plan:
            slow, real = phase == "slow", phase == "real"
            seconds, drain = (
                (args.overload_seconds, args.overload_drain)
                if phase == OVERLOAD
                else (args.seconds, args.drain)
            )
            # The overload's goodput and exactly-once are judged from a settled start: it waits for an
            # earlier backlog as long as for its own (make bench's r200 leaves ~27k deliveries: s34).
            limit = max(args.settle, args.overload_drain) if phase == OVERLOAD else args.settle
            waited = await settle(client, run_since, sent_so_far, limit) if first else 0.0
            if phase == OVERLOAD and args.overload_auto:
                rate = auto_overload_rate(
                    peak_before(results["phases"]), lambda r: shares_at(r, args.caps).per_content()
                )
                results["paced"][phase] = {c: shares_at(rate, args.caps).every[c] for c in PACED}
            if slow:
                await asyncio.to_thread(sandbox.latency, args.slow_platform, args.slow_ms)
            if real:
                await asyncio.to_thread(realistic, sandbox, latency, True)
            print(f"-- phase {phase}: {rate:g} contents/s for {seconds:g} s", flush=True)
            cpu_before = sampler.cpu_now()
            calls_before, ref_before = await asyncio.to_thread(sandbox.stats), work_done(stack)
            sampler.window()  # the settling before the phase is not the phase's
            ids, lag, (since, until) = await run_phase(
                settings, client, rate, seconds, drain, first, pools, phase, args.caps, media
            )
            phase_rss = sampler.window()
            shares = shares_at(rate, args.caps)
            first += len(ids)
            sent_so_far += shares.deliveries(len(ids))
            cpu_after = sampler.cpu_now()
            calls_after, ref_after = await asyncio.to_thread(sandbox.stats), work_done(stack)
            per_sample = await sample_cost(client, since, sampler.cpu_now)
            watching = {"samples": len(lag["samples"]), "cpu_s_per_sample": per_sample}
            reading = time.monotonic()
            deliveries = await client.deliveries(since, until)
            targets = {cid: len(shares.targets(n)) for n, cid in enumerate(ids)}
            figures = phase_figures(deliveries, targets, list(BENCHED))
            figures["tracker_read_s"] = time.monotonic() - reading
            figures["lag"] = lag
            figures["settled_before_s"] = waited
            figures["cpu_s"] = {n: cpu_after[n] - cpu_before[n] for n in cpu_after}
            figures["peak_rss_mb"] = phase_rss
            figures["watching"] = watching
            figures["rate"] = rate
            figures["reference"] = phase_work(ref_before, ref_after)
            figures["platform_calls"] = platform_calls(calls_before, calls_after)
            # An earlier phase's backlog lands in this one's window: its posts are not extra.
            backlog = not all(p["lag"]["drained"] for p in results["phases"].values())
            named = await client.deliveries(run_since, until) if backlog else deliveries
            figures["sandbox_check"] = await asyncio.to_thread(
                sandbox_check, stack.sandbox_url, deliveries, list(EMULATED), since, named
            ) | await asyncio.to_thread(mailpit_check, stack.mailpit_url, deliveries, args.press_list)
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
        first_shares = shares_at(rates[0], args.caps)
        relay, relay_cost = await relay_limit(
            settings, stack.topic_prefix, args.relay_contents, picker(pools, phases[0], first_shares), media
        )
        results["relay"] = relay | relay_cost
    finally:
        if reference is not None:
            reference.stop()
        stack.stop()
    write_all(results, args.label)
    return results


def run() -> None:
    asyncio.run(main())

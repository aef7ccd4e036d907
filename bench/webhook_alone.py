"""Loa's webhook publisher alone, for its own cost and profile (issue #20; docs/benchmarks.md,
"The webhook publisher alone"):

    PYTHONPATH=shared:. python -m bench.webhook_alone --contents 900 --rate 30 [--flame docs/img/x.svg]

The real publisher (``python -m services.webhook``: the shared runtime and the webhook adapter, a
SQLite job store as the e2e bench runs it) on its own topics and bucket of the shared stack (dropped
after), the sandbox as its own process, webhook-only contents (the e2e bench's, ``bench/e2e/load``).
Prints the publisher's CPU per published delivery over the feed and its drain, and its threads' CPU
— the figure ``bench.reference.alone`` prints for the reference — and how its work came in rounds,
read from its job store: contents per intake transaction, answers per answer transaction, status
events per relay round (``rounds``). ``--flame`` samples the publisher
with py-spy over the same window and writes a flame graph (py-spy is a profiling tool, not a
dependency of the project: install it into the venv by hand).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.e2e.load import create_topics, produce_at_rate, put_sample_media
from bench.e2e.stack import BenchStack, accounts_needed, channel_limits
from bench.py_spy import py_spy
from bench.reference.alone import AloneCost, cpu, idle_cpu, threads_cpu
from bench.rss import vm
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.admin import sign_in_to_kafka_as_admin

CHANNEL = "webhook"


@contextlib.contextmanager
def read_only(database: Path) -> Iterator[sqlite3.Connection]:
    """The publisher's job store, read beside (or after) the publisher."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def published(database: Path) -> int:
    """Deliveries the publisher's job store holds as published."""
    with read_only(database) as conn:
        row = conn.execute("SELECT count(*) FROM jobs WHERE state = 'published'").fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Rounds:
    """How the publisher's work came in rounds: each of its transactions stamps the rows it writes
    with one time (``created_at`` of the new jobs, ``updated_at`` of the answered ones, ``sent_at``
    of the events a relay round sent), so the distinct times count its transactions."""

    contents_per_intake: float
    answers_per_tx: float
    events_per_relay_round: float


def rounds(database: Path) -> Rounds:
    """The publisher's rounds so far."""
    with read_only(database) as conn:
        jobs, intakes = conn.execute("SELECT count(*), count(DISTINCT created_at) FROM jobs").fetchone()
        answered, answers = conn.execute(
            "SELECT count(*), count(DISTINCT updated_at) FROM jobs WHERE state = 'published'"
        ).fetchone()
        sent, relays = conn.execute(
            "SELECT count(sent_at), count(DISTINCT sent_at) FROM outbox"
            " WHERE sent_at IS NOT NULL AND topic IS NULL"  # status events, not the payloads beside them
        ).fetchone()
    return Rounds(jobs / max(intakes, 1), answered / max(answers, 1), sent / max(relays, 1))


@dataclass(frozen=True)
class AloneRun(AloneCost):
    """What one run measured of the publisher."""

    deliveries: int
    seconds: float
    accounts: int
    idle_rss_mb: float
    peak_rss_mb: float
    rounds: Rounds

    def lines(self) -> list[str]:
        return [
            f"webhook_alone_deliveries: {self.deliveries} in {self.seconds:.1f} s ({self.accounts} accounts)",
            *self.cost_lines("webhook_alone"),
            f"webhook_alone_idle_rss: {self.idle_rss_mb:.1f} MB",
            f"webhook_alone_peak_rss: {self.peak_rss_mb:.1f} MB",
            f"webhook_alone_contents_per_intake: {self.rounds.contents_per_intake:.1f} contents",
            f"webhook_alone_answers_per_tx: {self.rounds.answers_per_tx:.1f} answers",
            f"webhook_alone_events_per_relay_round: {self.rounds.events_per_relay_round:.1f} events",
        ]


def flame_graph(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` (every thread, native frames off) until SIGINT; writes an SVG, or
    collapsed stacks (py-spy's ``raw`` format, one stack and its count per line) to a ``.txt``."""
    form = "raw" if out.suffix == ".txt" else "flamegraph"
    argv = [py_spy(), "record", "--pid", str(pid), "--output", str(out), "--format", form]
    extra = ["--native"] if os.environ.get("LOA_BENCH_NATIVE") else ["--nonblocking"]
    return subprocess.Popen([*argv, "--rate", "200", *extra])


async def feed(stack: BenchStack, settings: LoaSettings, names: list[str], contents: int, rate: float) -> int:
    media = put_sample_media(MediaStore(settings))
    ids: list[str] = []
    await produce_at_rate(
        settings, rate, contents / rate, 0, lambda n: {CHANNEL: names[n % len(names)]}, *media, ids
    )
    database = stack.workdir / f"jobs-{CHANNEL}.db"
    while published(database) < len(ids):  # noqa: ASYNC110 - another process
        await asyncio.sleep(0.2)
    return len(ids)


def run(contents: int, rate: float, flame: Path | None = None, idle_flame: Path | None = None) -> AloneRun:
    limit = channel_limits()[CHANNEL]
    names = [f"wh-{i}" for i in range(accounts_needed(limit, contents, contents / rate))]
    stack = BenchStack(Path(tempfile.mkdtemp(prefix="loa-webhook-alone-")), {CHANNEL: names})
    stack.build()
    settings = LoaSettings(topic_prefix=stack.topic_prefix, s3_media_bucket=stack.media_bucket)
    publisher = stack.services[CHANNEL]
    try:
        asyncio.run(create_topics(settings, stack.topic_prefix))
        stack.start_sandbox()
        stack.seed_accounts()
        publisher.start()
        stack._wait([publisher], 120)
        assert publisher.proc is not None
        pid = publisher.proc.pid
        time.sleep(3)  # in its groups: start-up is not counted
        spy = flame_graph(pid, idle_flame) if idle_flame else None
        idle = idle_cpu(pid)
        idle_rss = vm(pid)["VmRSS"]
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        spy = flame_graph(pid, flame) if flame else None
        before, started = cpu(pid), time.monotonic()
        sent = asyncio.run(feed(stack, settings, names, contents, rate))
        used, took = cpu(pid) - before, time.monotonic() - started
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        return AloneRun(
            deliveries=sent,
            seconds=took,
            accounts=len(names),
            cpu_ms_per_delivery=1000 * used / sent,
            idle_cpu_ms_per_s=idle,
            threads_cpu=threads_cpu(pid),
            idle_rss_mb=idle_rss,
            peak_rss_mb=vm(pid)["VmHWM"],
            rounds=rounds(stack.workdir / f"jobs-{CHANNEL}.db"),
        )
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contents", type=int, default=900)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--flame", type=Path, default=None, help="write a py-spy flame graph (SVG)")
    parser.add_argument("--idle-flame", type=Path, default=None, help="the same, of the idle window")
    args = parser.parse_args()
    sign_in_to_kafka_as_admin()
    print("\n".join(run(args.contents, args.rate, args.flame, args.idle_flame).lines()))


if __name__ == "__main__":
    main()

"""Loa's webhook publisher alone, for its own cost and profile (issue #20; docs/benchmarks.md,
"The webhook publisher alone"):

    PYTHONPATH=shared:. python -m bench.webhook_alone --contents 900 --rate 30 [--flame docs/img/x.svg]

The real publisher (``python -m services.webhook``: the shared runtime and the webhook adapter, a
SQLite job store as the e2e bench runs it) on its own topics and bucket of the shared stack (dropped
after), the sandbox as its own process, webhook-only contents (the e2e bench's, ``bench/e2e/load``).
Prints the publisher's CPU per published delivery over the feed and its drain, and its threads' CPU
— the figure ``bench.reference.alone`` prints for the reference. ``--flame`` samples the publisher
with py-spy over the same window and writes a flame graph (py-spy is a profiling tool, not a
dependency of the project: install it into the venv by hand).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from bench.e2e.load import create_topics, produce_at_rate, put_sample_media
from bench.e2e.stack import BenchStack, accounts_needed, channel_limits
from bench.py_spy import py_spy
from bench.reference.alone import cpu, threads_cpu
from bench.rss import vm
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.admin import sign_in_to_kafka_as_admin

CHANNEL = "webhook"
IDLE_SECONDS = 10.0
"""Subscribed, nothing to do: its CPU per second over this long is printed beside the feed's."""


def published(database: Path) -> int:
    """Deliveries the publisher's job store holds as published (read-only, beside the publisher)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM jobs WHERE state = 'published'").fetchone()
    return int(row[0])


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


def run(contents: int, rate: float, flame: Path | None, idle_flame: Path | None = None) -> None:
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
        idle = cpu(pid)
        time.sleep(IDLE_SECONDS)
        idle = (cpu(pid) - idle) / IDLE_SECONDS
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
        print(f"webhook_alone_deliveries: {sent} in {took:.1f} s ({len(names)} accounts)")
        print(f"webhook_alone_cpu_per_delivery: {1000 * used / sent:.2f} ms")
        print(f"webhook_alone_idle_cpu: {1000 * idle:.1f} ms/s")
        print(f"webhook_alone_threads_cpu: {threads_cpu(pid)} s")
        print(f"webhook_alone_idle_rss: {idle_rss:.1f} MB")
        print(f"webhook_alone_peak_rss: {vm(pid)['VmHWM']:.1f} MB")
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
    run(args.contents, args.rate, args.flame, args.idle_flame)


if __name__ == "__main__":
    main()

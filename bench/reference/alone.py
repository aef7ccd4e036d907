"""The reference publisher alone, for its own cost and profile (docs/benchmarks.md, "Profile notes"):

    PYTHONPATH=shared:. python -m bench.reference.alone --contents 900 --rate 30 [--profile FILE]
        [--client CLIENT]

Its own topics and bucket on the shared stack (dropped after), the sandbox in this process, webhook
targets only; prints the reference's CPU per delivery over the feed, its CPU a second while idle
before it (``IDLE_SECONDS``), its threads' CPU and its deliveries per answer transaction (its
batches).
``--profile`` runs it under cProfile with a CPU clock (the main thread only: the HTTP threads'
CPU is in the thread figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.e2e.load import produce_at_rate, put_sample_media
from bench.reference.publisher import STATUS_TOPIC
from bench.reference.request import CLIENTS
from bench.reference.store import progress
from loa.events import MediaRef, topics
from loa.kafka_security import client_security
from loa.media import MediaStore
from loa.settings import CHECKOUT_PYTHONPATH, LoaSettings
from loa.testing.admin import sign_in_to_kafka_as_admin
from loa.testing.cleanup import drop_all
from tests.sandbox_fixtures import ServerThread

ACCOUNTS = 4
PROFILED = (
    "import cProfile, runpy, sys, time\n"
    "out = sys.argv.pop(1)\n"
    "p = cProfile.Profile(time.process_time)\n"
    "p.enable()\n"
    "try: runpy.run_module('bench.reference', run_name='__main__')\n"
    "finally: p.disable(); p.dump_stats(out)"
)


def cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


IDLE_SECONDS = 10.0
"""How long an alone bench watches its publisher subscribed with nothing to do, before the feed."""


def idle_cpu(pid: int) -> float:
    """``pid``'s CPU in ms a second over ``IDLE_SECONDS`` (nothing is sent to it meanwhile)."""
    before = cpu(pid)
    time.sleep(IDLE_SECONDS)
    return 1000 * (cpu(pid) - before) / IDLE_SECONDS


def threads_cpu(pid: int) -> str:
    """Each thread's CPU seconds, largest first (those of 10 ms or more), for a figure line."""
    threads = sorted((t.user_time + t.system_time for t in psutil.Process(pid).threads()), reverse=True)
    return ", ".join(f"{t:.2f}" for t in threads if t >= 0.01)


def endpoints(sandbox_url: str, path: Path) -> None:
    """``ACCOUNTS`` receivers on the sandbox and the reference's accounts file."""
    accounts = {}
    with httpx.Client(base_url=sandbox_url) as http:
        for i in range(ACCOUNTS):
            secret = uuid.uuid4().hex
            http.put(f"/_sandbox/webhook/endpoints/ref-{i}", json={"secret": secret}).raise_for_status()
            accounts[f"webhook-{i}"] = {"url": f"{sandbox_url}/webhook/ref-{i}", "secret": secret}
    path.write_text(json.dumps(accounts), encoding="utf-8")


def start(settings: LoaSettings, workdir: Path, profile: Path | None, client: str) -> subprocess.Popen[bytes]:
    head = (
        [sys.executable, "-c", PROFILED, str(profile)]
        if profile
        else [sys.executable, "-m", "bench.reference"]
    )
    args = ["--accounts", str(workdir / "accounts.json"), "--database", str(workdir / "reference.db")]
    args += ["--client", client]
    env = {**os.environ, "PYTHONPATH": CHECKOUT_PYTHONPATH}
    env |= {"LOA_TOPIC_PREFIX": settings.topic_prefix, "LOA_S3_MEDIA_BUCKET": settings.s3_media_bucket}
    return subprocess.Popen([*head, *args, "--group", f"{settings.topic_prefix}reference"], env=env)


async def topics_and_media(settings: LoaSettings) -> tuple[MediaRef, MediaRef]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await admin.start()
    await admin.create_topics([NewTopic(settings.topic(t), 1, 1) for t in (topics.CONTENT, STATUS_TOPIC)])
    await admin.close()
    return put_sample_media(MediaStore(settings))


async def feed(
    settings: LoaSettings, contents: int, rate: float, media: tuple[MediaRef, MediaRef], workdir: Path
) -> int:
    """Send the contents at ``rate``; wait until the reference answered every one."""
    ids: list[str] = []

    def pick(n: int) -> dict[str, str]:
        return {"webhook": f"webhook-{n % ACCOUNTS}"}

    await produce_at_rate(settings, rate, contents / rate, 0, pick, *media, ids)
    while progress(workdir / "reference.db")["answered"] < len(ids):  # noqa: ASYNC110 - another process
        await asyncio.sleep(0.2)
    return len(ids)


@dataclass(frozen=True)
class AloneCost:
    """A publisher's CPU in an alone run (this bench's or ``bench.webhook_alone``'s): a delivery, a
    second while idle (``idle_cpu``), and each thread's (``threads_cpu``)."""

    cpu_ms_per_delivery: float
    idle_cpu_ms_per_s: float
    threads_cpu: str

    def busy_ms(self, rate: float) -> float:
        """CPU a delivery less what the publisher spends idle (its polls and timers) at ``rate``."""
        return self.cpu_ms_per_delivery - self.idle_cpu_ms_per_s / rate

    def cost_lines(self, prefix: str) -> list[str]:
        return [
            f"{prefix}_cpu_per_delivery: {self.cpu_ms_per_delivery:.2f} ms",
            f"{prefix}_idle_cpu: {self.idle_cpu_ms_per_s:.1f} ms/s",
            f"{prefix}_threads_cpu: {self.threads_cpu} s",
        ]


@dataclass(frozen=True)
class ReferenceRun(AloneCost):
    """What one run measured of the reference."""

    answers_per_tx: float

    def lines(self) -> list[str]:
        return [
            *self.cost_lines("reference_alone"),
            f"reference_alone_answers_per_tx: {self.answers_per_tx:.1f} answers",
        ]


def run(
    settings: LoaSettings,
    contents: int,
    rate: float,
    profile: Path | None = None,
    client: str = "http.client",
) -> ReferenceRun:
    sandbox = ServerThread("services.sandbox.app:app").start()
    workdir = Path(tempfile.mkdtemp(prefix="loa-reference-"))
    endpoints(sandbox.url, workdir / "accounts.json")
    media = asyncio.run(topics_and_media(settings))
    proc = start(settings, workdir, profile, client)
    try:
        time.sleep(5)  # started and in its group: its start-up is not counted
        idle = idle_cpu(proc.pid)
        before = cpu(proc.pid)
        sent = asyncio.run(feed(settings, contents, rate, media, workdir))
        used = cpu(proc.pid) - before
        done = progress(workdir / "reference.db")
        return ReferenceRun(
            cpu_ms_per_delivery=1000 * used / sent,
            idle_cpu_ms_per_s=idle,
            threads_cpu=threads_cpu(proc.pid),
            answers_per_tx=done["answered"] / max(done["answer_batches"], 1),
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        sandbox.stop()


def measure(
    contents: int, rate: float, profile: Path | None = None, client: str = "http.client"
) -> ReferenceRun:
    """``run`` on topics and a bucket of its own, dropped after."""
    tag = f"refalone-{uuid.uuid4().hex[:8]}"
    settings = LoaSettings(topic_prefix=f"{tag}.", s3_media_bucket=f"{tag}-media")
    try:
        return run(settings, contents, rate, profile, client)
    finally:
        drop_all(settings.kafka_bootstrap, MediaStore(settings).client, [tag])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contents", type=int, default=900)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile file (CPU clock)")
    parser.add_argument("--client", choices=CLIENTS, default="http.client")
    args = parser.parse_args()
    sign_in_to_kafka_as_admin()
    print("\n".join(measure(args.contents, args.rate, args.profile, args.client).lines()))


if __name__ == "__main__":
    main()

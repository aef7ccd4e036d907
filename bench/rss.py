"""Resident memory of every Loa service: after its imports, and idle once started (issue 11: ≤ 120 MB).

``PYTHONPATH=shared:. python bench/rss.py`` — about half a minute. Each service starts as the
e2e bench starts it (``bench/e2e/stack.py``: same environment, ``MALLOC_ARENA_MAX=2``) against the
shared local stack, under a unique topic prefix and buckets, and is stopped; then started again on
the same stores (``restart``: a store at its latest revision, as production's are once the
migrations job ran, starts without importing Alembic). Peak RSS under load is the e2e bench's
figure (``processes`` in ``bench/results/e2e.json``); this one shows the floor a service starts
from. Prints ``<service>_import_rss``, ``<service>_idle_rss`` and ``<service>_restart_rss`` (MB)
lines last and writes ``bench/results/rss.json``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.e2e.load import create_topics  # noqa: E402
from bench.e2e.stack import CHANNELS, BenchStack, Service  # noqa: E402
from loa.settings import LoaSettings  # noqa: E402
from loa.testing.admin import sign_in_to_kafka_as_admin  # noqa: E402
from loa.testing.ports import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "rss.json"
SETTLE_SECONDS = 3.0
"""Idle time after every service answers its health check, before reading its RSS."""

READ_RSS = (
    "import sys\n"
    "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
    "sys.stdout.write(str(int(status['VmRSS'].split()[0]) * 1024))\n"
)


def vm(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of ``pid`` in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def import_rss(service: Service) -> float:
    """RSS in MB of a fresh interpreter that imported the service's ``__main__`` (guarded: nothing runs)."""
    module = f"services.{service.name}.__main__"
    out = subprocess.run(
        [sys.executable, "-c", f"import {module}\n{READ_RSS}"],
        cwd=ROOT,
        env=service.env,
        capture_output=True,
        check=True,
    ).stdout
    return int(out) / 2**20


def add_services(stack: BenchStack) -> None:
    """The website publisher, the tracker and ingest, next to the channel publishers of the e2e bench."""
    env = stack._channel_env("website")
    env.update(
        LOA_S3_WEBSITE_BUCKET=f"{stack.tag}-website",
        LOA_WEBSITE_SERVER_PORT=str(free_port()),
    )
    health = env.pop("_HEALTH")
    stack.services["website"] = Service(
        "website", [sys.executable, "-m", "services.website"], env, health, stack.workdir / "website.log"
    )
    for name, port_var in (("tracker", "LOA_TRACKER_PORT"), ("ingest", "LOA_INGEST_PORT")):
        port = free_port()
        env = stack._env(
            **{port_var: str(port)},
            LOA_DATABASE_URL=f"sqlite+aiosqlite:///{stack.workdir / f'{name}.db'}",
            LOA_S3_WEBSITE_BUCKET=f"{stack.tag}-website",
            MALLOC_ARENA_MAX="2",
        )
        stack.services[name] = Service(
            name,
            [sys.executable, "-m", f"services.{name}"],
            env,
            f"http://127.0.0.1:{port}/healthz",
            stack.workdir / f"{name}.log",
        )


def main() -> dict[str, dict[str, float]]:
    sign_in_to_kafka_as_admin()  # the harness's own topics; the services it starts inherit it
    workdir = Path(tempfile.mkdtemp(prefix="loa-bench-rss-"))
    stack = BenchStack(workdir, {c: ["rss-1"] for c in (*CHANNELS, "website")})
    stack.build()
    add_services(stack)
    measured = [name for name in stack.services if name != "sandbox"]
    figures: dict[str, dict[str, float]] = {
        name: {"import_rss_mb": import_rss(stack.services[name])} for name in measured
    }
    asyncio.run(create_topics(LoaSettings(), stack.topic_prefix))
    try:
        stack.start_sandbox()
        stack.seed_accounts()
        for start in ("idle", "restart"):  # new stores (migrated at start), then the same stores
            stack.start_services()  # every service but the sandbox, at once
            time.sleep(SETTLE_SECONDS)
            for name, pid in stack.pids().items():
                if name in figures:
                    now = vm(pid)
                    figures[name] |= {f"{start}_rss_mb": now["VmRSS"], f"{start}_hwm_mb": now["VmHWM"]}
            stack.stop_services()
    finally:
        stack.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"workdir": str(workdir), "services": figures}, indent=2) + "\n")
    for name in measured:
        print(f"{name}_import_rss: {figures[name]['import_rss_mb']:.1f} MB")
    for start in ("idle", "restart"):
        for name in measured:
            print(f"{name}_{start}_rss: {figures[name].get(f'{start}_rss_mb', float('nan')):.1f} MB")
    return figures


if __name__ == "__main__":
    main()

"""Scheduler bench: N jobs due over a window, through the real dispatcher and job store.

Lateness = when the adapter's ``publish`` is called minus the job's due time. Halfway, the
dispatcher is killed (tasks cancelled, nothing released, like a SIGKILL) and a new one starts
after ``--pause`` seconds: no job may be lost or published twice, and the late ones fire at once
(``restart_catch_up_seconds``: from the restart until every job due by then has been published).
The lateness percentiles leave out the jobs due while the scheduler was down (late by design;
``lateness_max_due_while_down_seconds`` shows them). Kafka is not involved (the intake and the
relay are not the scheduler's path).

    PYTHONPATH=shared:. python bench/scheduler.py --jobs 100000 --window 600
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from loa.channels import Account, ChannelAdapter, Post, PublishResult
from loa.events import Content, DeliveryState, Target, utcnow
from loa.publisher.accounts import AccountStore
from loa.publisher.dispatcher import Dispatcher
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore, NewJob

RESULTS = Path(__file__).parent / "results"
SEED_BATCH = 1000


class CountingAdapter(ChannelAdapter):
    name = "bench"
    lateness: dict[str, float] = {}
    calls = 0

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        raise NotImplementedError

    async def publish(self, post: Post, account: Account) -> PublishResult:
        CountingAdapter.calls += 1
        assert post.due_at is not None
        CountingAdapter.lateness.setdefault(post.marker, (utcnow() - post.due_at).total_seconds())
        return PublishResult(external_id=post.marker)

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        return PublishResult(external_id=post.marker) if post.marker in CountingAdapter.lateness else None

    async def retract(self, previous: PublishResult, account: Account) -> None:
        return None


async def main(jobs: int, window: float, pause: float, url: str | None) -> dict[str, float]:
    db_url = url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = PublisherSettings(
        publisher_database_url=db_url,
        publisher_concurrency=32,
        publisher_claim_batch=200,
        publisher_poll_seconds=0.1,
        publisher_replica_id="bench",
        credentials_key=Fernet.generate_key().decode(),
    )
    engine = make_engine(db_url)
    await migrate(engine)
    store = JobStore(engine, "bench")
    accounts = AccountStore(engine, "bench", Fernet(settings.credentials_key.get_secret_value().encode()))
    await accounts.add("main", {"token": "t"}, {})
    # The jobs are written first (in batches, as intake does); the first falls due `lead` seconds
    # after the start, enough for the writing, which is timed and reported.
    lead = 5.0 + jobs / 500  # seeding must finish first: ~2 ms per job on a busy 2-core machine
    seeding_started = utcnow()
    start = seeding_started + timedelta(seconds=lead)
    step = window / jobs
    due_of = [start + timedelta(seconds=i * step) for i in range(jobs)]
    for first in range(0, jobs, SEED_BATCH):
        new_jobs = [
            NewJob(
                content_id=f"c{i}",
                version=1,
                account="main",
                post=Post(
                    content_id=f"c{i}",
                    version=1,
                    channel="bench",
                    account="main",
                    marker=f"m{i}",
                    texts=["Thông báo"],
                    due_at=due_of[i],
                ),
                state=DeliveryState.SCHEDULED,
                due_at=due_of[i],
            )
            for i in range(first, min(jobs, first + SEED_BATCH))
        ]
        async with store.tx() as conn:
            await store.create_many(conn, new_jobs)
    seeding = (utcnow() - seeding_started).total_seconds()
    adapter = CountingAdapter(context=None)  # type: ignore[arg-type]

    def dispatcher() -> Dispatcher:
        return Dispatcher(adapter, store, accounts, settings, RuntimeMetrics("bench"))

    first_run = dispatcher()
    task = asyncio.create_task(first_run.run())
    await asyncio.sleep((start - utcnow()).total_seconds() + window / 2)
    killed_at = utcnow()
    task.cancel()  # a crash: in-flight work is abandoned as it stands
    for t in list(first_run.in_flight.values()):
        t.cancel()
    await asyncio.gather(task, *first_run.in_flight.values(), return_exceptions=True)
    await asyncio.sleep(pause)
    restarted_at = utcnow()
    backlog = {
        f"m{i}" for i, due in enumerate(due_of) if due <= restarted_at
    } - CountingAdapter.lateness.keys()
    second = dispatcher()
    task = asyncio.create_task(second.run())
    catch_up: float | None = None
    deadline = time.monotonic() + window + 600
    while len(CountingAdapter.lateness) < jobs and time.monotonic() < deadline:
        if catch_up is None and backlog <= CountingAdapter.lateness.keys():
            catch_up = (utcnow() - restarted_at).total_seconds()
        await asyncio.sleep(0.05)
    await second.stop(5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    counts = await store.counts_by_state()
    await engine.dispose()
    late = sorted(CountingAdapter.lateness.values())
    # Jobs due while the scheduler was down are late by design; the target applies to the rest.
    down = {f"m{i}" for i, due in enumerate(due_of) if killed_at <= due <= restarted_at}
    on_time = sorted(v for m, v in CountingAdapter.lateness.items() if m not in down) or late
    return {
        "jobs": jobs,
        "window_seconds": window,
        "seeding_seconds": seeding,
        "seeding_overran": int(seeding > lead),
        "published": counts.get("published", 0),
        "lost": jobs - len(late),
        "platform_calls": CountingAdapter.calls,
        "lateness_p50_seconds": statistics.median(on_time),
        "lateness_p99_seconds": on_time[int(len(on_time) * 0.99) - 1],
        "lateness_max_seconds": on_time[-1],
        "lateness_max_due_while_down_seconds": late[-1],
        "restart_backlog_jobs": len(backlog),
        "restart_catch_up_seconds": catch_up if catch_up is not None else float("nan"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=600.0, help="seconds over which the jobs fall due")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds the scheduler stays down")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    figures = asyncio.run(main(args.jobs, args.window, args.pause, args.database_url))
    backend = "postgresql" if args.database_url and args.database_url.startswith("postgresql") else "sqlite"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scheduler-{backend}.json").write_text(json.dumps(figures, indent=2) + "\n")
    units = {"seconds": "s", "mb": "MB"}
    for name, value in figures.items():
        unit = next((u for suffix, u in units.items() if name.endswith(suffix)), "")
        print(f"{name}: {value:.3f} {unit}".rstrip() if isinstance(value, float) else f"{name}: {value}")

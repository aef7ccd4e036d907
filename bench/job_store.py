"""What the job store's polls and claims cost a publisher in CPU (issue #20; docs/benchmarks.md,
"Session 29"):

    PYTHONPATH=shared:. python -m bench.job_store [--rounds 2000]

The real job store (``loa.publisher.store``) on a SQLite file, as every publisher runs it. Printed,
in CPU ms of this process per call: a claim that finds nothing due (what an idle publisher's
dispatcher does every ``LOA_PUBLISHER_POLL_SECONDS``, 0.2 s), the intake gate's count of due jobs,
a claim that leases and starts ``--batch`` due jobs (per job claimed; the jobs are made first,
outside the measured time, each with a Vietnamese post), and the intake's reads of a batch of as
many contents (their newest versions, then their jobs in a write transaction), and one statement
through SQLAlchemy against the same SQL on the driver's cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.channels import Post
from loa.events import DeliveryState, utcnow
from loa.publisher.job import NewJob
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import sequences

RESULTS = Path(__file__).resolve().parent / "results" / "job_store.json"
OWNER = "bench/webhook"
LEASE = timedelta(seconds=60)
TEXT = (
    "Sáng 26/11, UBND thành phố Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp. "
    "Người dân, doanh nghiệp được giải quyết hồ sơ không phụ thuộc địa giới hành chính. "
    "Đường dây nóng: 1900 1234."
)


async def cpu_ms(calls: int, call: Callable[[], Awaitable[object]]) -> float:
    """This process's CPU per call of ``call``, in ms, after a few calls to warm up."""
    for _ in range(20):
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return 1000 * (time.process_time() - started) / calls


async def claim_and_start(store: JobStore, batch: int, rounds: int) -> float:
    """CPU ms per job of claims that each lease and start ``batch`` due jobs."""
    used = 0.0
    for r in range(rounds):
        new = [
            NewJob(f"c-{r}-{i}", 1, f"acct-{i % 8}", _post(f"c-{r}-{i}"), DeliveryState.SCHEDULED, utcnow())
            for i in range(batch)
        ]
        async with store.tx() as conn:
            await store.create_many(conn, new)
        started = time.process_time()
        claimed = await store.claim(OWNER, limit=batch, lease=LEASE, start=lambda job: True)
        used += time.process_time() - started
        assert len(claimed) == batch
        assert all(j.state is DeliveryState.PUBLISHING for j in claimed)
    return 1000 * used / (rounds * batch)


async def statement_cost(engine: AsyncEngine, rounds: int) -> tuple[float, float]:
    """CPU ms of one hot-path statement, reading three deliveries' sequences: through SQLAlchemy
    (the store's connection, the statement built once as the store's are), then the same SQL on
    the driver's cursor. Their difference is what a job store below SQLAlchemy's execution layer
    would save a statement (docs/benchmarks.md, "Session 34")."""
    ids = ["d-1", "d-2", "d-3"]
    read = select(sequences.c.delivery_id, sequences.c.last).where(
        sequences.c.delivery_id.in_(bindparam("ids", expanding=True))
    )
    sql = "SELECT delivery_id, last FROM delivery_sequences WHERE delivery_id IN (?, ?, ?)"
    async with engine.begin() as conn:
        await conn.execute(insert(sequences), [{"delivery_id": d, "last": 1} for d in ids])
        cursor = conn.sync_connection.connection.driver_connection.cursor()

        async def through_sqlalchemy() -> None:
            (await conn.execute(read, {"ids": ids})).all()

        async def on_the_driver() -> None:
            cursor.execute(sql, ids).fetchall()

        return await cpu_ms(rounds, through_sqlalchemy), await cpu_ms(rounds, on_the_driver)


def _post(content_id: str) -> Post:
    return Post(content_id=content_id, version=1, channel="webhook", account="a", marker="m", texts=[TEXT])


async def measure(rounds: int, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'jobs.db'}")
        try:
            await migrate(engine)
            store = JobStore(engine, "webhook")
            nothing_due = await cpu_ms(rounds, lambda: store.claim(OWNER, limit=64, lease=LEASE))
            count_due = await cpu_ms(rounds, store.count_due)
            per_job = await claim_and_start(store, batch, max(1, rounds // 20))
            contents = [f"c-0-{i}" for i in range(batch)]

            async def intake_reads() -> None:
                await store.newest_versions(contents)
                async with store.tx() as conn:
                    await store.versions_of(conn, contents)

            reads = await cpu_ms(rounds // 4, intake_reads)
            through_sqlalchemy, on_the_driver = await statement_cost(engine, rounds)
        finally:
            await engine.dispose()
    return {
        "job_store_claim_nothing_due_cpu": nothing_due,
        "job_store_count_due_cpu": count_due,
        "job_store_claim_and_start_cpu_per_job": per_job,
        "job_store_intake_reads_cpu": reads,
        "job_store_statement_sqlalchemy_cpu": through_sqlalchemy,
        "job_store_statement_driver_cpu": on_the_driver,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16, help="due jobs each measured claim starts")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.rounds, args.batch))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    for name, value in figures.items():
        print(f"{name}: {value:.3f} ms")


if __name__ == "__main__":
    main()

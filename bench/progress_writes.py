"""What saving posts' progress costs a publisher in CPU, a transaction a save or the saves that meet
in one (issue #20; docs/benchmarks.md, "Session 39"):

    PYTHONPATH=shared:. python -m bench.progress_writes [--posts 400] [--workers 16]

The real job store on a SQLite file, as every publisher runs it. ``--workers`` tasks publish
``--posts`` posts between them, as the runtime's workers do: each post saves its progress three
times (an upload session, a media id, a post id: the X and YouTube adapters' saves), with a wait of
1–3 ms between saves for the platform's answer. Run once with each save a transaction of its own
(how ``RuntimeContext.save_progress`` wrote until session 39) and once through
``loa.publisher.progress.ProgressWrites``; printed, for each, the CPU of this process per save and
the transactions committed per save.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import event, update

from loa.channels import Post
from loa.events import DeliveryState, utcnow
from loa.publisher.job import NewJob
from loa.publisher.progress import ProgressWrites
from loa.publisher.store import codec
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import jobs

RESULTS = Path(__file__).resolve().parent / "results" / "progress_writes.json"
SAVES_A_POST = 3
TEXT = "Sáng 26/11, UBND thành phố Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp."


async def _store(folder: Path, posts: list[Post]) -> JobStore:
    engine = make_engine(f"sqlite+aiosqlite:///{folder / 'jobs.db'}")
    await migrate(engine)
    store = JobStore(engine, "x")
    new = [NewJob(p.content_id, 1, p.account, p, DeliveryState.SCHEDULED, utcnow()) for p in posts]
    async with store.tx() as conn:
        await store.create_many(conn, new)
    return store


def _one_transaction_a_save(store: JobStore) -> Callable[[Post], Awaitable[None]]:
    """Session 38's ``RuntimeContext._write_progress``."""

    async def save(post: Post) -> None:
        async with store.tx() as conn:
            await conn.execute(
                update(jobs)
                .where(
                    jobs.c.content_id == post.content_id,
                    jobs.c.version == post.version,
                    jobs.c.channel == post.channel,
                    jobs.c.account == post.account,
                )
                .values(post=codec.post_to_json(post), updated_at=utcnow())
            )

    return save


async def _run(label: str, posts: int, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="loa-bench-progress-") as folder:
        made = [
            Post(
                content_id=f"c{n}", version=1, channel="x", account=f"a{n % 8}", marker=f"m{n}", texts=[TEXT]
            )
            for n in range(posts)
        ]
        store = await _store(Path(folder), made)
        save = _one_transaction_a_save(store) if label == "alone" else ProgressWrites(store).save
        commits: list[int] = []
        event.listen(store.engine.sync_engine, "commit", lambda _conn: commits.append(1))
        queue = list(made)
        rng = random.Random(39)

        async def worker() -> None:
            while queue:
                post = queue.pop()
                for step in range(SAVES_A_POST):
                    await asyncio.sleep(rng.uniform(0.001, 0.003))  # the platform's answer
                    post.progress = {"step": step, "media_ids": [f"{post.content_id}-{step}"]}
                    await save(post)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await store.engine.dispose()
    saves = posts * SAVES_A_POST
    return {
        f"{label}_cpu_per_save": round(cpu / saves * 1000, 3),
        f"{label}_transactions_per_save": round(len(commits) / saves, 3),
        f"{label}_wall": round(wall, 2),
    }


async def main(posts: int, workers: int) -> None:
    figures: dict[str, float] = {}
    for label in ("alone", "shared"):
        figures |= await _run(label, posts, workers)
    units = {"cpu_per_save": "ms", "transactions_per_save": "", "wall": "s"}
    for name, value in figures.items():
        unit = next(u for suffix, u in units.items() if name.endswith(suffix))
        print(f"progress_{name}: {value} {unit}".rstrip())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.workers))

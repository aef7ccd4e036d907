"""The tracker's CPU per approval recorded (issue #20): ``apply_content_events`` — the write path of
every content event the tracker reads (the content's row, its history, a placeholder per target) —
on SQLite and PostgreSQL, in batches of 1, 10 and 50 (a steady trickle; the e2e bench's 30 contents/s
with the linger; a backlog). In-process, the tracker's side only (the database server's CPU is not
counted). A profile of the e2e bench showed the content path at ~27 % of the tracker's samples.

    PYTHONPATH=shared:. python bench/tracker_approvals.py [--contents 2000]

Figures last, as ``name: value unit``; JSON in bench/results/tracker_approvals.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.tracker import pg_database
from loa.events import Content, ContentApproved, Target, utcnow
from services.tracker.db import make_engine, migrate
from services.tracker.ingest import apply_content_events

RESULTS = Path(__file__).resolve().parent / "results" / "tracker_approvals.json"
BATCHES = (1, 10, 50)
TARGETS = (
    ("website", "main"),
    ("facebook", "trang-chinh"),
    ("zalo", "oa-bo"),
    ("youtube", "kenh"),
    ("x", "bo"),
)
TITLE = "Thông cáo báo chí: Bộ trưởng chủ trì họp về ứng phó bão số 3 tại Đà Nẵng"


def approvals(n: int, tag: str) -> list[ContentApproved]:
    now = utcnow()
    return [
        ContentApproved(
            payload=Content(
                id=f"{tag}-{i}",
                version=1,
                title=f"{TITLE} ({i})",
                unit="Văn phòng Bộ",
                approved_by="Lê Văn Đông",
                approved_at=now,
                targets=[Target(channel=c, account=a) for c, a in TARGETS],
            )
        )
        for i in range(n)
    ]


async def cpu_per_content(url: str, n: int, size: int) -> float:
    """Milliseconds of this process's CPU per content, written in batches of ``size``."""
    engine = make_engine(url)
    try:
        await migrate(engine)
        events = approvals(n, f"b{size}")
        await apply_content_events(engine, events[:size])  # connections and statements warm
        started = time.process_time()
        for i in range(size, n, size):
            await apply_content_events(engine, events[i : i + size])
        return 1000 * (time.process_time() - started) / (n - size)
    finally:
        await engine.dispose()


async def main(n: int) -> dict[str, Any]:
    figures: dict[str, float] = {}
    for store in ("sqlite", "postgresql"):
        for size in BATCHES:
            url, drop = (
                (f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='loa-bench-approvals-')}/tracker.db", None)
                if store == "sqlite"
                else pg_database()
            )
            try:
                figures[f"tracker_approval_cpu_{store}_batch{size}"] = await cpu_per_content(url, n, size)
            finally:
                if drop is not None:
                    drop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"contents": n, "targets": len(TARGETS), "figures": figures}, indent=2))
    for name, value in figures.items():
        print(f"{name}: {value:.3f} ms")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contents", type=int, default=2000)
    asyncio.run(main(parser.parse_args().contents))

"""Urgent lane and retraction bench (issue 17, items 3 and 4): ``python bench/urgent.py --help``.

    PYTHONPATH=shared:. python bench/urgent.py                        # 2,000 contents = 10,000 deliveries
    PYTHONPATH=shared:. python bench/urgent.py --backlog 400 --urgent 20

Starts its own sandbox (zero latency), tracker and one publisher per channel (``bench/e2e/stack.py``)
against the shared Kafka, MinIO and PostgreSQL, under a unique topic prefix, bucket and databases.
Phases, one content (or retraction) at a time, each timed from the tracker's stored times:

1. idle retraction: contents published with nothing queued, then retracted: request → ``retracted``
   on every channel;
2. a backlog of ``--backlog`` normal contents to every channel (5 deliveries each) on the same
   accounts, all taken in by the publishers (their consumer lag 0) before the next phase;
3. urgent: an urgent content to every channel, approval → ``published`` on every channel, while the
   backlog is queued (how much of it is left is recorded at each);
4. retraction with the backlog: the urgent contents retracted, request → ``retracted`` everywhere;
5. behind: an urgent content sent right after ``--behind`` normal contents on the same partition,
   so intake must read those first (what bounds the urgent lane's delay before the job store).

Figures last, one per line ``name: value unit``; the whole record in ``bench/results/urgent.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from aiokafka import AIOKafkaProducer  # noqa: E402

from bench.e2e.load import content, create_topics, percentile, put_sample_media  # noqa: E402
from bench.e2e.observe import TrackerClient  # noqa: E402
from bench.e2e.report import machine  # noqa: E402
from bench.e2e.stack import CHANNELS, BenchStack  # noqa: E402
from loa.events import Content, ContentApproved, ContentRetracted, Priority, Retraction, topics, utcnow  # noqa: E402
from loa.kafka_security import client_security  # noqa: E402
from loa.media import MediaStore  # noqa: E402
from loa.settings import LoaSettings  # noqa: E402
from loa.testing.admin import sign_in_to_kafka_as_admin, use_pg_superuser_password  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "urgent.json"
URGENT_TITLE = "KHẨN: Cảnh báo lũ quét số {n} tại Đắk Lắk, người dân không qua ngầm tràn"
TARGET_URGENT_S = 5.0
TARGET_RETRACT_IDLE_S = 5.0
TARGET_RETRACT_BACKLOG_S = 60.0
PHASE_TIMEOUT_S = 300.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backlog", type=int, default=2000, help="normal contents queued (x5 deliveries)")
    parser.add_argument("--urgent", type=int, default=20, help="urgent contents (and retractions) timed")
    parser.add_argument("--idle", type=int, default=20, help="retractions timed with nothing queued")
    parser.add_argument(
        "--behind", type=int, default=200, help="normal contents ahead of the last urgent ones"
    )
    parser.add_argument("--behind-rounds", type=int, default=3)
    parser.add_argument(
        "--accounts", type=int, default=2, help="accounts per channel (backlog and urgent share them)"
    )
    return parser.parse_args(argv)


class Rig:
    """The bench's producer and tracker reads."""

    def __init__(self, settings: LoaSettings, tracker: TrackerClient, accounts: dict[str, list[str]]) -> None:
        self.settings = settings
        self.tracker = tracker
        self.accounts = accounts
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap, **client_security(settings), acks="all", linger_ms=5
        )
        self.media: tuple[Any, Any] = put_sample_media(MediaStore(settings))
        self.per_channel: dict[str, list[float]] = {}
        """Each channel's seconds of the phase being timed (taken by ``by_channel``)."""

    def by_channel(self) -> dict[str, dict[str, float]]:
        """Each channel's figures of the phase just timed; the next phase starts afresh."""
        out = {channel: stats(values) for channel, values in sorted(self.per_channel.items())}
        self.per_channel = {}
        return out

    def content(self, n: int, priority: Priority = Priority.NORMAL) -> Content:
        pick = {c: names[n % len(names)] for c, names in self.accounts.items()}
        made = content(n, pick, *self.media)
        if priority is Priority.URGENT:
            made = made.model_copy(update={"priority": priority, "title": URGENT_TITLE.format(n=n)})
        return made

    async def send(self, *events: ContentApproved | ContentRetracted) -> None:
        topic = self.settings.topic(topics.CONTENT)
        for e in events:
            await self.producer.send(topic, e.model_dump_json().encode(), key=e.payload.id.encode())
        await self.producer.flush()

    async def deliveries(self, content_id: str) -> list[dict[str, Any]]:
        r = await self.tracker.http.get(f"/api/v1/contents/{content_id}")
        if r.status_code == 404:
            return []
        r.raise_for_status()
        found: list[dict[str, Any]] = r.json()["deliveries"]
        return found

    async def until_all(self, content_id: str, state: str, stamp: str) -> dict[str, datetime]:
        """Poll until every channel's delivery of ``content_id`` is in ``state``; their ``stamp`` times."""
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while time.monotonic() < deadline:
            found = await self.deliveries(content_id)
            if len(found) == len(CHANNELS) and all(d["state"] == state for d in found):
                return {d["channel"]: datetime.fromisoformat(d[stamp]) for d in found}
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{content_id}: not {state} on every channel within {PHASE_TIMEOUT_S:.0f} s")

    async def publish_and_time(self, n: int, priority: Priority) -> float:
        """Approval → published on every channel (the tracker's times), seconds."""
        c = self.content(n, priority)
        await self.send(ContentApproved(payload=c))
        published = await self.until_all(c.id, "published", "published_at")
        return self._slowest(published, c.approved_at)

    async def retract_and_time(self, content_id: str) -> float:
        """Retraction request (sent) → retracted on every channel, seconds."""
        asked = utcnow()
        reason = "Thông tin chưa chính xác, đã có đính chính"
        await self.send(
            ContentRetracted(payload=Retraction(id=content_id, reason=reason, requested_by="Vụ Báo chí"))
        )
        return self._slowest(await self.until_all(content_id, "retracted", "state_at"), asked)

    def _slowest(self, times: dict[str, datetime], start: datetime) -> float:
        """Seconds from ``start`` to the last channel; each channel's seconds kept in ``per_channel``."""
        for channel, at in times.items():
            self.per_channel.setdefault(channel, []).append((at - start).total_seconds())
        return (max(times.values()) - start).total_seconds()

    async def waiting(self, since: datetime) -> int:
        """Deliveries of contents approved since ``since`` not ended yet (the queue still there)."""
        body = await self.tracker._page({"approved_since": since.isoformat(), "page_size": 1})
        return int(body["total"]) - await self.tracker.ended(since)


def stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_s": percentile(values, 50),
        "p99_s": percentile(values, 99),
        "max_s": max(values) if values else float("nan"),
    }


async def taken_in(rig: Rig, since: datetime, deliveries: int, limit: float = 1800.0) -> float:
    """Seconds until the tracker knows ``deliveries`` deliveries of contents approved since ``since``
    (each publisher emits ``received`` as it creates the job: the publishers have taken them in)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        body = await rig.tracker._page({"approved_since": since.isoformat(), "page_size": 1})
        if int(body["total"]) >= deliveries:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the publishers did not take {deliveries} deliveries in within {limit:.0f} s")


async def phases(args: argparse.Namespace, rig: Rig, results: dict[str, Any]) -> None:
    n = 0

    def next_n() -> int:
        nonlocal n
        n += 1
        return n

    print(f"-- idle: {args.idle} contents published, then retracted", flush=True)
    idle_ids = []
    for _ in range(args.idle):
        k = next_n()
        await rig.publish_and_time(k, Priority.NORMAL)
        idle_ids.append(rig.content(k).id)
    rig.by_channel()
    results["retract_idle"] = stats([await rig.retract_and_time(cid) for cid in idle_ids])
    results["retract_idle"]["by_channel"] = rig.by_channel()

    print(f"-- backlog: {args.backlog} normal contents to {len(CHANNELS)} channels", flush=True)
    since = utcnow()
    started = time.monotonic()
    await rig.send(*(ContentApproved(payload=rig.content(next_n())) for _ in range(args.backlog)))
    sent_s = time.monotonic() - started
    taken_in_s = await taken_in(rig, since, args.backlog * len(CHANNELS))
    results["backlog"] = {
        "contents": args.backlog,
        "deliveries": args.backlog * len(CHANNELS),
        "sent_s": sent_s,
        "taken_in_s": taken_in_s,
        "waiting_at_start": await rig.waiting(since),
    }

    print(f"-- urgent: {args.urgent} urgent contents through the backlog", flush=True)
    urgent_s, urgent_ids, waiting = [], [], []
    for _ in range(args.urgent):
        k = next_n()
        urgent_s.append(await rig.publish_and_time(k, Priority.URGENT))
        urgent_ids.append(rig.content(k).id)
        waiting.append(await rig.waiting(since))
    results["urgent"] = stats(urgent_s) | {"backlog_waiting": waiting, "all_s": urgent_s}
    results["urgent"]["by_channel"] = rig.by_channel()

    print(f"-- retraction with the backlog: {len(urgent_ids)} retractions", flush=True)
    retract_s = []
    for cid in urgent_ids:
        retract_s.append(await rig.retract_and_time(cid))
    results["retract_backlog"] = stats(retract_s) | {"backlog_waiting_after": await rig.waiting(since)}
    results["retract_backlog"]["by_channel"] = rig.by_channel()

    print(f"-- behind: {args.behind_rounds} x (urgent right after {args.behind} normal contents)", flush=True)
    behind = []
    for _ in range(args.behind_rounds):
        ahead = utcnow()
        await rig.send(*(ContentApproved(payload=rig.content(next_n())) for _ in range(args.behind)))
        behind.append(await rig.publish_and_time(next_n(), Priority.URGENT))
        await taken_in(rig, ahead, (args.behind + 1) * len(CHANNELS))
    results["behind"] = stats(behind) | {"normal_ahead": args.behind, "all_s": behind}
    results["behind"]["by_channel"] = rig.by_channel()


def figures(r: dict[str, Any]) -> list[str]:
    return [
        f"urgent_published_every_channel_p99: {r['urgent']['p99_s']:.2f} s",
        f"urgent_published_every_channel_p50: {r['urgent']['p50_s']:.2f} s",
        f"retract_idle_p99: {r['retract_idle']['p99_s']:.2f} s",
        f"retract_with_backlog_p99: {r['retract_backlog']['p99_s']:.2f} s",
        f"urgent_behind_{r['behind']['normal_ahead']}_normal_p99: {r['behind']['p99_s']:.2f} s",
        f"backlog_waiting_at_first_urgent: {r['urgent']['backlog_waiting'][0]} deliveries",
    ]


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    sign_in_to_kafka_as_admin()  # its topics, groups and databases are its own, as the e2e bench's
    use_pg_superuser_password()
    pools = {c: [f"{c}-lane-{i}" for i in range(args.accounts)] for c in CHANNELS}
    stack = BenchStack(Path(tempfile.mkdtemp(prefix="loa-bench-urgent-")), pools)
    stack.build()
    settings = LoaSettings(topic_prefix=stack.topic_prefix, s3_media_bucket=stack.media_bucket)
    results: dict[str, Any] = {
        "command": "PYTHONPATH=shared:. python bench/urgent.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "date": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_before": list(os.getloadavg()),
        "accounts_per_channel": args.accounts,
    }
    await create_topics(settings, stack.topic_prefix)
    try:
        tracker = stack.start_all()
        rig = Rig(settings, tracker, pools)
        await rig.producer.start()
        try:
            await phases(args, rig, results)
        finally:
            await rig.producer.stop()
            await tracker.close()
        results["load_average_after"] = list(os.getloadavg())
    finally:
        stack.stop()
    results["targets"] = {
        f"urgent p99 <= {TARGET_URGENT_S:g} s": results["urgent"]["p99_s"] <= TARGET_URGENT_S,
        f"retract idle p99 <= {TARGET_RETRACT_IDLE_S:g} s": results["retract_idle"]["p99_s"]
        <= TARGET_RETRACT_IDLE_S,
        f"retract with backlog p99 <= {TARGET_RETRACT_BACKLOG_S:g} s": results["retract_backlog"]["p99_s"]
        <= TARGET_RETRACT_BACKLOG_S,
    }
    results["figures"] = figures(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
    for name, ok in results["targets"].items():
        print(f"{'met   ' if ok else 'MISSED'} {name}")
    for line in results["figures"]:
        print(line)
    return results


if __name__ == "__main__":
    asyncio.run(main())

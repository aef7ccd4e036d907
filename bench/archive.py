"""Archive bench: what keeping the archive of record costs per delivery, in CPU and in bytes.

Each content goes to 7 channel accounts; each delivery makes the status events a publisher emits on
a first-attempt success (received, scheduled, publishing, published), and the content its
``content.approved``. Measured on the real MinIO of the local stack, in an object-locked bucket of
the bench's own (GOVERNANCE, 1 day), through the code the services run:

* the publisher's side: ``payload_sha256`` on each status event from the attempt on (two per
  delivery; the payload's bytes go to its outbox with the first, ``loa.payload.v1``), CPU of this
  process;
* the archiver's side: ``PayloadKeeper.keep`` of each delivery's payload (one PUT), and
  ``Archiver.keep`` of every event, CPU of this process and of the MinIO server
  (``/proc/<pid>/stat`` of ``.loa/run/minio.pid``; absent: -1), wall time and the bytes stored;
  twice, on two sets of contents: each record alone (a LIST of the content's records and a GET of
  the last before each PUT: the worst, as when events trickle in one by one) and in batches of 500
  as the consumer takes them (a content's first event of a batch reads its head, the next ones
  carry it). The day index is written once per content and day.

Reading the events from Kafka is not measured here: consumer groups on three topics, as the
tracker's bench measures its own (``bench/tracker.py``).

    PYTHONPATH=shared:. python bench/archive.py --contents 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from minio import Minio

from loa.archive.payload import payload_sha256, sent_payload
from loa.archive.records import Source, sha256_hex
from loa.archive.retention import Period, Retention
from loa.archive.store import ArchiveStore
from loa.channels import Post
from loa.events import ContentApproved, DeliveryState, DeliveryStatus, topics
from loa.settings import REPO_ROOT, LoaSettings
from loa.testing.cleanup import drop_locked_bucket
from services.archive.archiver import ArchiveMetrics, Archiver, Arrival
from services.archive.payloads import PayloadKeeper, SentPayload
from tests.integration.tracker.support import approved, status

RESULTS = Path(__file__).parent / "results"
TARGETS = [
    ("facebook", "trang-so-tttt"), ("zalo", "oa-da-nang"), ("website", "main"), ("youtube", "kenh-chinh"),
    ("x", "so_tttt_dn"), ("email", "bao-chi"), ("tiktok", "kenh-tiktok"),
]  # fmt: skip
STATES = (DeliveryState.RECEIVED, DeliveryState.SCHEDULED, DeliveryState.PUBLISHING, DeliveryState.PUBLISHED)
BODY = "<p>" + "Sáng nay, UBND thành phố Đà Nẵng tổ chức Hội nghị xúc tiến đầu tư năm 2026. " * 20 + "</p>"


def minio_cpu_seconds() -> float:
    """User + system CPU of the local MinIO server so far (-1: not found)."""
    try:
        pid = (REPO_ROOT / ".loa" / "run" / "minio.pid").read_text().strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


def post_of(content: ContentApproved, channel: str, account: str) -> Post:
    c = content.payload
    text = f"{c.title}\n\n{c.summary}\n{c.canonical_url or ''}"
    return Post(
        c.id, c.version, channel, account, f"loa:{c.id}:{channel}", c.title, [text], payload={"body": BODY}
    )


def events(n: int, prefix: str) -> tuple[list[ContentApproved], list[tuple[Post, list[DeliveryStatus]]]]:
    contents, deliveries = [], []
    for i in range(n):
        content = approved(f"{prefix}-{i:05d}", TARGETS, title=f"Thông cáo báo chí số {i}: Đà Nẵng")
        content = content.model_copy(update={"payload": content.payload.model_copy(update={"body": BODY})})
        contents.append(content)
        for channel, account in TARGETS:
            post = post_of(content, channel, account)
            answers = []
            for seq, state in enumerate(STATES, start=1):
                event = status(content.payload.id, channel, account, state, seq, attempt=0 if seq < 3 else 1)
                if seq >= 3:  # what StatusEvents does from the attempt on
                    sha = payload_sha256(post)
                    event = event.model_copy(
                        update={"payload": event.payload.model_copy(update={"payload_sha256": sha})}
                    )
                answers.append(event)
            deliveries.append((post, answers))
    return contents, deliveries


def arrivals_of(
    contents: list[ContentApproved], deliveries: list[tuple[Post, list[DeliveryStatus]]]
) -> list[Arrival]:
    """Every event, in the order a consumer of both topics may read them: contents, then answers."""
    arrivals = [
        Arrival(
            c.payload.id, str(c.event_id), c.model_dump_json().encode(), Source(topics.CONTENT, 0, i), "news"
        )
        for i, c in enumerate(contents)
    ]
    for i, (_, answers) in enumerate(deliveries):
        for j, e in enumerate(answers):
            source = Source(topics.DELIVERY, 0, 4 * i + j)
            arrivals.append(
                Arrival(e.payload.content_id, str(e.event_id), e.model_dump_json().encode(), source, None)
            )
    return arrivals


async def archive_run(store: ArchiveStore, arrivals: list[Arrival], batch: int) -> dict[str, float]:
    """``Archiver.keep`` over ``arrivals`` in batches of ``batch``: CPU (here and in MinIO), wall, bytes."""
    metrics = ArchiveMetrics()
    archiver = Archiver(store, Retention.parse("default=1d"), metrics)
    wall, cpu, server = time.monotonic(), time.process_time(), minio_cpu_seconds()
    for start in range(0, len(arrivals), batch):
        await archiver.keep(arrivals[start : start + batch])
    elapsed, used = time.monotonic() - wall, time.process_time() - cpu
    return {
        "cpu_ms": 1000 * used,
        "minio_cpu_ms": 1000 * (minio_cpu_seconds() - server) if server >= 0 else -1.0,
        "wall_ms": 1000 * elapsed,
        "records": len(arrivals),
        "locked": metrics.locked._value.get(),
        "bytes": metrics.bytes._value.get(),
        "event_bytes": sum(len(a.raw) for a in arrivals),
    }


async def main(n: int) -> dict[str, Any]:
    settings = LoaSettings()
    client = Minio(settings.s3_endpoint, settings.s3_access_key.get_secret_value(),
                   settings.s3_secret_key.get_secret_value(), secure=False)  # fmt: skip
    bucket = f"bench-archive-{uuid.uuid4().hex[:8]}"
    store = ArchiveStore(client, bucket)
    store.ensure_bucket(Period(days=1))
    try:
        contents, deliveries = events(n, "bench-luu-tru")
        count = len(deliveries)

        # the publisher's side: two hashes per delivery (publishing, published)
        cpu = time.process_time()
        for post, _ in deliveries:
            payload_sha256(post)
            payload_sha256(post)
        hash_cpu = time.process_time() - cpu
        # the archiver's: one payload PUT per delivery, as read off loa.payload.v1
        sent = [SentPayload(sha256_hex(data), data) for data in (sent_payload(p) for p, _ in deliveries)]
        keeper = PayloadKeeper(store, ArchiveMetrics().payloads)
        cpu, server = time.process_time(), minio_cpu_seconds()
        await keeper.keep(sent)
        put_cpu, put_server = time.process_time() - cpu, minio_cpu_seconds() - server
        payload_bytes = sum(len(p.data) for p in sent)

        # the archiver's side: each record alone (every one reads its content's head: the worst),
        # then batches of 500 as the consumer takes them (a content's events of one batch share it)
        alone = await archive_run(store, arrivals_of(contents, deliveries), 1)
        batched = await archive_run(store, arrivals_of(*events(n, "bench-lo")), 500)
    finally:
        await asyncio.to_thread(drop_locked_bucket, client, bucket)
    return {
        "contents": n,
        "deliveries": count,
        "records": int(alone["records"]),
        "records_locked": int(alone["locked"]),
        "publisher_hash_cpu_us_per_delivery": 1e6 * hash_cpu / count,
        "archiver_payload_put_cpu_ms_per_delivery": 1000 * put_cpu / count,
        "archiver_payload_put_minio_cpu_ms_per_delivery": 1000 * put_server / count if server >= 0 else -1.0,
        "payload_bytes_per_delivery": payload_bytes / count,
        **{f"archiver_alone_{k}_per_delivery": v / count for k, v in alone.items() if k.endswith("_ms")},
        **{f"archiver_batched_{k}_per_delivery": v / count for k, v in batched.items() if k.endswith("_ms")},
        "record_bytes_per_delivery": alone["bytes"] / count,
        "event_bytes_per_delivery": alone["event_bytes"] / count,
        "stored_bytes_per_delivery": (alone["bytes"] + payload_bytes) / count,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contents", type=int, default=50, help="each goes to 7 accounts")
    args = parser.parse_args()
    os.environ.setdefault("LOA_MODE", "development")
    figures = asyncio.run(main(args.contents))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "archive.json").write_text(json.dumps(figures, indent=2) + "\n")
    units = {
        "_us_per_delivery": "µs",
        "_ms_per_delivery": "ms",
        "_ms_per_record": "ms",
        "bytes_per_delivery": "bytes",
    }
    for name, value in figures.items():
        unit = next((u for suffix, u in units.items() if name.endswith(suffix)), "")
        print(f"{name}: {value:.3f} {unit}".rstrip() if isinstance(value, float) else f"{name}: {value}")

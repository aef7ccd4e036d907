"""Load and measurement: approved contents at a fixed rate, ``published`` read off the delivery topic.

Approval time = the content event's ``occurred_at`` (stamped when it is produced); published time =
the ``occurred_at`` of the delivery's ``published`` status event (the runtime stamps it when the
state changes, in the same transaction as the job). The tracker, once on main, reads the same events.
"""

from __future__ import annotations

import asyncio
import io
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from PIL import Image

from loa.events import (
    Content,
    ContentApproved,
    DeliveryState,
    MediaRef,
    Target,
    parse_delivery_status,
    topics,
    utcnow,
)
from loa.media import MediaStore
from loa.settings import LoaSettings

TITLE = "Thông báo số {n}: Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp"
SUMMARY = (
    "Sáng 26/11, UBND thành phố Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp (số {n}). "
    "Người dân, doanh nghiệp được giải quyết hồ sơ không phụ thuộc địa giới hành chính."
)
BODY = "<p>Trung tâm tiếp nhận <strong>1.864 thủ tục hành chính</strong>. Đường dây nóng: 1900 1234.</p>"


def put_sample_media(store: MediaStore) -> tuple[MediaRef, MediaRef]:
    """One small JPEG and one small 'video' (256 KiB: one YouTube chunk), stored once in MinIO."""
    store.ensure_buckets()
    out = io.BytesIO()
    Image.new("RGB", (640, 360), (200, 30, 40)).save(out, "JPEG", quality=80)
    image = out.getvalue()
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(256 * 1024 - 24)
    refs = []
    for data, ctype in ((image, "image/jpeg"), (video, "video/mp4")):
        stored = store.put_stream(io.BytesIO(data), ctype, len(data))
        refs.append(
            MediaRef(key=stored.key, sha256=stored.sha256, content_type=ctype, size=stored.size, alt="Ảnh")
        )
    return refs[0], refs[1]


def content(n: int, accounts: dict[str, str], image: MediaRef, video: MediaRef) -> Content:
    """Content number ``n`` of a run, one target per channel (YouTube takes the video, the rest the image)."""
    media = [image, video] if "youtube" in accounts else [image]
    return Content(
        id=f"bench-{n:07d}",
        version=1,
        title=TITLE.format(n=n),
        summary=SUMMARY.format(n=n),
        body=BODY,
        tags=["Hành chính công", "Hà Nội"],
        unit="Văn phòng UBND thành phố",
        approved_by="Nguyễn Thị Đào",
        approved_at=utcnow(),
        media=media,
        targets=[Target(channel=c, account=a) for c, a in accounts.items()],
    )


async def create_topics(settings: LoaSettings, prefix: str, partitions: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        names = [
            topics.CONTENT,
            topics.DELIVERY,
            topics.COMMANDS,
            topics.dlq(topics.CONTENT),
            topics.dlq(topics.COMMANDS),
        ]
        await admin.create_topics([NewTopic(f"{prefix}{n}", partitions, 1) for n in names])
    finally:
        await admin.close()


@dataclass
class Tracker:
    """Reads the delivery topic: per delivery its approval time and the time it was published."""

    settings: LoaSettings
    approved: dict[str, datetime] = field(default_factory=dict)  # content id → approval
    targets: dict[str, int] = field(default_factory=dict)  # content id → channels targeted
    published: dict[tuple[str, str], tuple[datetime, str | None]] = field(default_factory=dict)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    received_at: dict[tuple[str, str], float] = field(default_factory=dict)  # monotonic, when we read it
    states: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _task: asyncio.Task[None] | None = None

    async def start(self) -> Tracker:
        self.consumer = AIOKafkaConsumer(
            self.settings.topic(topics.DELIVERY),
            bootstrap_servers=self.settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await self.consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    event = parse_delivery_status(record.value)
                    d = event.payload
                    self.states[str(d.state)] += 1
                    key = (d.content_id, d.channel)
                    if d.state is DeliveryState.PUBLISHED and key not in self.published:
                        self.published[key] = (event.occurred_at, d.external_id)
                        self.received_at[key] = time.monotonic()
                    elif d.state in (DeliveryState.FAILED, DeliveryState.NEEDS_ATTENTION):
                        self.failed[key] = d.error.message if d.error else str(d.state)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    def done(self, ids: list[str]) -> int:
        """Deliveries of ``ids`` that ended (published or failed)."""
        wanted = set(ids)
        return sum(1 for (cid, _ch) in (*self.published, *self.failed) if cid in wanted)


async def produce_at_rate(
    settings: LoaSettings,
    rate: float,
    seconds: float,
    first: int,
    pick_accounts: Callable[[int], dict[str, str]],
    image: MediaRef,
    video: MediaRef,
    tracker: Tracker,
    backlog: list[tuple[float, int, int]],
) -> list[str]:
    """Send ``rate`` contents/s for ``seconds`` (paced per 10 ms tick); sample sent vs done each second."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    topic = settings.topic(topics.CONTENT)
    ids: list[str] = []
    total = int(rate * seconds)
    started = time.monotonic()
    next_sample = started + 1.0
    try:
        n = 0
        while n < total:
            due = int((time.monotonic() - started) * rate) + 1
            while n < min(due, total):
                c = content(first + n, pick_accounts(n), image, video)
                event = ContentApproved(payload=c)
                tracker.approved[c.id] = event.occurred_at
                tracker.targets[c.id] = len(c.targets)
                await producer.send(topic, event.model_dump_json().encode(), key=c.id.encode())
                ids.append(c.id)
                n += 1
            now = time.monotonic()
            if now >= next_sample:
                sent = sum(tracker.targets[i] for i in ids)
                backlog.append((now - started, sent, tracker.done(ids)))
                next_sample += 1.0
            await asyncio.sleep(0.01)
        await producer.flush()
    finally:
        await producer.stop()
    return ids


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]

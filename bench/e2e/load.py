"""The load: approved contents targeting every channel, sent at a fixed rate.

Each content's ``approved_at`` is stamped as it is made, just before it is sent; the tracker stores
it, and the bench reads it back with the published time (``bench/e2e/observe.py``).
"""

from __future__ import annotations

import asyncio
import io
import math
import time
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from PIL import Image

from loa.events import (
    Content,
    ContentApproved,
    MediaRef,
    Target,
    topics,
    utcnow,
)
from loa.kafka_security import client_security
from loa.media import MediaStore
from loa.settings import LoaSettings

TITLE = "Thông báo số {n}: Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp"
SUMMARY = (
    "Sáng 26/11, UBND thành phố Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp (số {n}). "
    "Người dân, doanh nghiệp được giải quyết hồ sơ không phụ thuộc địa giới hành chính."
)
BODY = "<p>Trung tâm tiếp nhận <strong>1.864 thủ tục hành chính</strong>. Đường dây nóng: 1900 1234.</p>"


def put_sample_media(store: MediaStore) -> tuple[MediaRef, MediaRef]:
    """One small JPEG and one small 'video' (256 KiB: one YouTube chunk; TikTok takes a video under
    5 MB whole, in one chunk), stored once in MinIO."""
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
    """Content number ``n`` of a run, one target per channel of ``accounts`` (YouTube and TikTok take the
    video, the rest the image)."""
    media = [image, video] if {"youtube", "tiktok"} & set(accounts) else [image]
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
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{prefix}{n}", partitions, 1) for n in topics.ALL])
    finally:
        await admin.close()


async def produce_at_rate(
    settings: LoaSettings,
    rate: float,
    seconds: float,
    first: int,
    pick_accounts: Callable[[int], dict[str, str]],
    image: MediaRef,
    video: MediaRef,
    ids: list[str],
) -> None:
    """Send ``rate`` contents/s for ``seconds`` (paced per 10 ms tick), appending each id to ``ids``."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, **client_security(settings), acks="all", linger_ms=5
    )
    await producer.start()
    topic = settings.topic(topics.CONTENT)
    total = int(rate * seconds)
    started = time.monotonic()
    try:
        n = 0
        while n < total:
            due = int((time.monotonic() - started) * rate) + 1
            while n < min(due, total):
                c = content(first + n, pick_accounts(n), image, video)
                event = ContentApproved(payload=c)
                await producer.send(topic, event.model_dump_json().encode(), key=c.id.encode())
                ids.append(c.id)
                n += 1
            await asyncio.sleep(0.01)
        await producer.flush()
    finally:
        await producer.stop()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]

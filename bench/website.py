"""Publish N articles to the static site on real MinIO; show publish time does not grow with the site.

    PYTHONPATH=shared:. python bench/website.py [--articles 5000]

Each publish writes the page and its index keys, then rebuilds only the indexes the article is
in (front pages + feeds, its unit, its tags, its month's sitemap) from the newest N keys.
Figures last, one per line (``name: value unit``), and in ``bench/results/website.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from minio.deleteobjects import DeleteObject

from loa.media import MediaStore
from loa.settings import REPO_ROOT, LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.website_support import FakeContext, article, static_account

TAGS = [
    "Chuyển đổi số",
    "Cải cách hành chính",
    "Dịch vụ công",
    "Báo chí",
    "Xuất bản",
    "An toàn thông tin",
    "Bưu chính",
    "Viễn thông",
    "Hợp tác quốc tế",
    "Đối ngoại",
    "Phòng chống thiên tai",
    "Y tế",
    "Giáo dục",
    "Kinh tế số",
    "Đầu tư",
    "Thông báo",
    "Tuyển dụng",
    "Thi đua khen thưởng",
    "Pháp luật",
    "Đảng – Đoàn thể",
]
UNITS = [
    "Văn phòng Bộ",
    "Vụ Hợp tác quốc tế",
    "Cục Báo chí",
    "Cục Xuất bản, In và Phát hành",
    "Cục An toàn thông tin",
    "Vụ Bưu chính",
    "Cục Viễn thông",
    "Trung tâm Thông tin",
]


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


async def run(count: int, window: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    base = LoaSettings()
    settings = WebsiteSettings(
        **{
            **base.model_dump(),
            "s3_media_bucket": f"bench-{tag}-media",
            "s3_website_bucket": f"bench-{tag}-web",
        }
    )
    media = MediaStore(settings)
    media.ensure_buckets()
    print(f"buckets {settings.s3_media_bucket} {settings.s3_website_bucket}", file=sys.stderr)
    adapter = WebsiteAdapter(FakeContext(media), settings)
    account = static_account()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    times: list[float] = []
    requests: list[int] = []
    listed: list[int] = []
    buckets = [adapter.static.bucket, adapter.static.index.bucket]
    began = time.perf_counter()
    try:
        for i in range(count):
            content = article(
                f"01JBENCH{tag.upper()}{i:08d}",
                title=f"Bản tin số {i}: {TAGS[i % len(TAGS)]} – hoạt động của {UNITS[i % len(UNITS)]}",
                tags=[TAGS[i % len(TAGS)], TAGS[(i * 7 + 3) % len(TAGS)]],
                unit=UNITS[i % len(UNITS)],
                approved_at=start + timedelta(hours=3 * i),
            )
            r0, k0 = sum(b.requests for b in buckets), sum(b.keys_listed for b in buckets)
            t0 = time.perf_counter()
            post = await adapter.render(content, content.targets[0], account)
            await adapter.publish(post, account)
            times.append(time.perf_counter() - t0)
            requests.append(sum(b.requests for b in buckets) - r0)
            listed.append(sum(b.keys_listed for b in buckets) - k0)
            if (i + 1) % 500 == 0:
                print(
                    f"{i + 1} published, last 500: {statistics.mean(times[-500:]) * 1000:.1f} ms, "
                    f"{statistics.mean(requests[-500:]):.1f} requests, "
                    f"{statistics.mean(listed[-500:]):.0f} keys listed",
                    file=sys.stderr,
                )
        total = time.perf_counter() - began
    finally:
        _drop_bucket(media, settings.s3_website_bucket)
        _drop_bucket(media, settings.s3_media_bucket)
    first, last = times[:window], times[-window:]
    return {
        "articles": count,
        "window": window,
        "first_mean_ms": statistics.mean(first) * 1000,
        "first_p95_ms": p95(first) * 1000,
        "last_mean_ms": statistics.mean(last) * 1000,
        "last_p95_ms": p95(last) * 1000,
        "last_over_first": statistics.mean(last) / statistics.mean(first),
        "first_requests": statistics.mean(requests[:window]),
        "last_requests": statistics.mean(requests[-window:]),
        "first_keys_listed": statistics.mean(listed[:window]),
        "last_keys_listed": statistics.mean(listed[-window:]),
        "per_500_mean_ms": [statistics.mean(times[i : i + 500]) * 1000 for i in range(0, len(times), 500)],
        "total_s": total,
        "page_size": settings.website_page_size,
        "index_pages": settings.website_index_pages,
        "feed_size": settings.website_feed_size,
    }


def _drop_bucket(media: MediaStore, bucket: str) -> None:
    client = media.client
    names = [DeleteObject(str(o.object_name)) for o in client.list_objects(bucket, recursive=True)]
    for error in client.remove_objects(bucket, names):
        print(f"could not delete {error}", file=sys.stderr)
    client.remove_bucket(bucket)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--window", type=int, default=500, help="first/last how many publishes to compare")
    args = parser.parse_args()
    window = min(args.window, max(1, args.articles // 2))
    result = asyncio.run(run(args.articles, window))
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    Path(out / "website.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"website_articles: {result['articles']} articles")
    print(f"website_first_{window}_mean: {result['first_mean_ms']:.1f} ms")
    print(f"website_first_{window}_p95: {result['first_p95_ms']:.1f} ms")
    print(f"website_last_{window}_mean: {result['last_mean_ms']:.1f} ms")
    print(f"website_last_{window}_p95: {result['last_p95_ms']:.1f} ms")
    print(f"website_last_over_first: {result['last_over_first']:.2f} ratio")
    print(f"website_first_{window}_requests: {result['first_requests']:.1f} requests")
    print(f"website_last_{window}_requests: {result['last_requests']:.1f} requests")
    print(f"website_first_{window}_keys_listed: {result['first_keys_listed']:.0f} keys")
    print(f"website_last_{window}_keys_listed: {result['last_keys_listed']:.0f} keys")
    print(f"website_total: {result['total_s']:.1f} s")


if __name__ == "__main__":
    main()

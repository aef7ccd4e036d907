"""Static mode on real MinIO: pages, indexes, feeds, sitemap, update, retract, concurrency."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from loa.channels import PublishResult
from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from services.website.site.bucket import SiteBucket
from tests.website_support import FakeContext, article, make_media, static_account, store_image

pytestmark = pytest.mark.integration


def website_settings(settings: LoaSettings, **overrides: object) -> WebsiteSettings:
    return WebsiteSettings(
        **{**settings.model_dump(), "website_page_size": 3, "website_index_pages": 2, **overrides}
    )


@pytest.fixture
def adapter(settings: LoaSettings) -> WebsiteAdapter:
    return WebsiteAdapter(FakeContext(make_media(settings)), website_settings(settings))


def site(adapter: WebsiteAdapter) -> SiteBucket:
    return adapter.static.bucket


async def publish(adapter: WebsiteAdapter, content_id: str, **kw: object) -> PublishResult:
    account = static_account()
    content = article(content_id, **kw)  # type: ignore[arg-type]
    post = await adapter.render(content, content.targets[0], account)
    return await adapter.publish(post, account)


def text(bucket: SiteBucket, key: str) -> str:
    raw = bucket.get(key)
    assert raw is not None, f"{key} missing"
    return raw.decode()


async def test_article_page_index_feeds_and_sitemap(adapter: WebsiteAdapter) -> None:
    media = adapter.context.media
    image = store_image(
        media, alt="Quang cảnh hội nghị tổng kết chuyển đổi số", caption="Quang cảnh hội nghị"
    )
    result = await publish(adapter, "01JD5Z8Q4M9R3T7V2X6YART001", media=[image])
    assert result.url == "http://127.0.0.1:8082/2026/11/" + result.external_id.rsplit("/", 1)[-1]
    assert re.fullmatch(r"/2026/11/day-manh-chuyen-doi-so-[a-z0-9-]+-6yart001\.html", result.external_id)
    bucket = site(adapter)
    page = text(bucket, result.external_id.lstrip("/"))
    assert "<title>Đẩy mạnh chuyển đổi số" in page
    assert "Thứ Năm, 26/11/2026 14:30" in page
    assert '<meta name="loa-marker" content="loa-01JD5Z8Q4M9R3T7V2X6YART001">' in page
    assert f'<meta property="og:image" content="http://127.0.0.1:8082/media/{image.sha256}">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'/media/{image.sha256} 1200w"' in page  # the original ends the srcset (test_srcset.py)
    assert 'alt="Quang cảnh hội nghị tổng kết chuyển đổi số"' in page
    assert "X-Amz-Signature" not in page and "X-Amz-Credential" not in page
    # the media was copied into the public bucket under its hash
    assert bucket.stat(f"media/{image.sha256}") is not None
    assert result.external_id in text(bucket, "index.html")
    assert "/chu-de/chuyen-doi-so/" in page
    assert result.external_id in text(bucket, "chu-de/chuyen-doi-so/index.html")
    assert result.external_id in text(bucket, "don-vi/vu-hop-tac-quoc-te/index.html")
    rss = feedparser.parse(text(bucket, "rss.xml"))
    atom = feedparser.parse(text(bucket, "atom.xml"))
    assert not rss.bozo and not atom.bozo
    assert rss.version == "rss20" and atom.version == "atom10"
    assert [e.link for e in rss.entries] == [result.url] == [e.link for e in atom.entries]
    assert rss.entries[0].title.startswith("Đẩy mạnh chuyển đổi số")
    assert "sitemaps/2026-11.xml" in text(bucket, "sitemap.xml")
    assert f"<loc>{result.url}</loc>" in text(bucket, "sitemaps/2026-11.xml")


async def test_update_rerenders_and_retract_removes_everywhere(adapter: WebsiteAdapter) -> None:
    account = static_account()
    content = article("01JD5Z8Q4M9R3T7V2X6YUPD001")
    post = await adapter.render(content, content.targets[0], account)
    first = await adapter.publish(post, account)
    changed = article(
        "01JD5Z8Q4M9R3T7V2X6YUPD001",
        version=2,
        title="Đính chính: Hội nghị tổng kết chuyển đổi số",
        tags=["Đính chính"],
        approved_at=datetime(2026, 11, 27, 2, 5, tzinfo=UTC),
    )
    post2 = await adapter.render(changed, changed.targets[0], account)
    second = await adapter.update(post2, first, account)
    assert second.url == first.url  # a new title keeps the first URL
    bucket = site(adapter)
    page = text(bucket, first.external_id.lstrip("/"))
    assert "Đính chính: Hội nghị tổng kết" in page
    assert 'Cập nhật <time datetime="2026-11-27T09:05:00+07:00">Thứ Sáu, 27/11/2026 09:05</time>' in page
    assert "Đính chính: Hội nghị" in text(bucket, "index.html")
    assert first.external_id not in text(bucket, "chu-de/chuyen-doi-so/index.html")
    assert first.external_id in text(bucket, "chu-de/dinh-chinh/index.html")

    await adapter.retract(second, account)
    assert bucket.get(first.external_id.lstrip("/")) is None
    assert bucket.get("_withdrawn/" + first.external_id.lstrip("/")) is not None
    for key in (
        "index.html",
        "rss.xml",
        "atom.xml",
        "sitemaps/2026-11.xml",
        "chu-de/dinh-chinh/index.html",
        "don-vi/vu-hop-tac-quoc-te/index.html",
    ):
        assert first.external_id.rsplit("/", 1)[-1] not in text(bucket, key), key
    assert await adapter.find_existing(post2, account) is None


async def test_find_existing_checks_the_marker(adapter: WebsiteAdapter) -> None:
    account = static_account()
    content = article("01JD5Z8Q4M9R3T7V2X6YFND001")
    post = await adapter.render(content, content.targets[0], account)
    assert await adapter.find_existing(post, account) is None
    published = await adapter.publish(post, account)
    found = await adapter.find_existing(post, account)
    assert found is not None and found.url == published.url
    # a different content at the same URL is not ours
    site(adapter).put(
        post.payload["path"].lstrip("/"), b'<meta name="loa-marker" content="loa-other">', "text/html"
    )
    assert await adapter.find_existing(post, account) is None


async def test_pagination_keeps_the_newest_and_concurrent_replicas_lose_nothing(
    settings: LoaSettings, unique: Callable[[str], str]
) -> None:
    ws = website_settings(settings)
    media = make_media(settings)
    replicas = [WebsiteAdapter(FakeContext(media), ws) for _ in range(2)]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    jobs = []
    for i in range(8):
        adapter = replicas[i % 2]
        jobs.append(
            publish(
                adapter,
                f"01JD5Z8Q4M9R3T7V2X6YCON{i:03d}",
                title=f"Thông báo số {i} về lịch tiếp công dân",
                approved_at=start + timedelta(hours=i),
            )
        )
    results = await asyncio.gather(*jobs)
    bucket = site(replicas[0])
    front = text(bucket, "index.html") + text(bucket, "trang-2.html")
    newest = [r.external_id for r in results][::-1][:6]  # 2 pages of 3
    for path in newest:
        assert path in front
    assert results[0].external_id not in front  # the oldest fell off the paginated window
    sitemap = text(bucket, "sitemaps/2026-11.xml")
    assert all(r.url and r.url in sitemap for r in results)  # ...but stays in the sitemap
    rss = feedparser.parse(text(bucket, "rss.xml"))
    assert len(rss.entries) == 8


async def test_a_stored_job_with_a_hostile_body_publishes_nothing_executable(adapter: WebsiteAdapter) -> None:
    """A job stored before the edge check tightened: the render-time sanitiser is the guard."""
    account = static_account()
    content = article("01JD5Z8Q4M9R3T7V2X6YHST009")
    post = await adapter.render(content, content.targets[0], account)
    post.payload["content"]["body"] = (
        '<p>Đoạn mở đầu.</p><script>alert(1)</script><img src=x onerror="alert(1)">'
        '<a href="javascript:alert(1)">liên kết</a><svg><script>alert(2)</script></svg>'
        '<p style="x: expression(alert(3))">Đoạn cuối.</p>'
    )
    result = await adapter.publish(post, account)
    page = text(site(adapter), result.external_id.lstrip("/"))
    body = page.split('<div class="body">', 1)[1].split("</div>", 1)[0]
    assert "Đoạn mở đầu." in body and "Đoạn cuối." in body
    # The page's one <script> is its NewsArticle JSON-LD (data, never run).
    assert re.findall(r"<script[^>]*>", page.lower()) == ['<script type="application/ld+json">']
    for bad in ("<script", "onerror", "javascript:", "<svg", "expression(", "style="):
        assert bad not in body.lower(), bad

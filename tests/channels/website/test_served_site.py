"""The sample Vietnamese article through the adapter, read back over HTTP from the 8082 server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import feedparser
import httpx
import pytest

from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.website_support import FakeContext, RunningServer, article, make_media, static_account, store_image

pytestmark = pytest.mark.integration

CONTENT_ID = "01JD5Z8Q4M9R3T7V2X6YSRV001"


@pytest.fixture
def adapter(settings: LoaSettings) -> WebsiteAdapter:
    return WebsiteAdapter(FakeContext(make_media(settings)), WebsiteSettings(**settings.model_dump()))


@pytest.fixture
async def http(adapter: WebsiteAdapter) -> AsyncIterator[httpx.AsyncClient]:
    with RunningServer(adapter.static.bucket) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            yield client


async def test_publish_update_retract_over_http(adapter: WebsiteAdapter, http: httpx.AsyncClient) -> None:
    account = static_account()
    image = store_image(adapter.context.media, alt="Toàn cảnh hội nghị tại Hà Nội")
    content = article(CONTENT_ID, media=[image])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    path = result.external_id

    page = await http.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Đẩy mạnh chuyển đổi số" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it
    etag = page.headers["etag"]
    assert (await http.get(path, headers={"If-None-Match": etag})).status_code == 304

    picture = await http.get(f"/media/{image.sha256}")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert "immutable" in picture.headers["cache-control"]
    part = await http.get(f"/media/{image.sha256}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100 and part.content == picture.content[:100]

    home = await http.get("/")
    assert home.status_code == 200 and path in home.text
    assert (await http.get("/chu-de/chuyen-doi-so")).status_code == 301
    assert path in (await http.get("/chu-de/chuyen-doi-so/")).text
    rss = feedparser.parse((await http.get("/rss.xml")).content)
    assert not rss.bozo and rss.entries[0].link == result.url
    assert (await http.get("/rss.xml")).headers["content-type"].startswith("application/rss+xml")
    sitemap = await http.get("/sitemap.xml")
    assert sitemap.headers["content-type"].startswith("application/xml")
    assert result.url
    assert result.url in (await http.get("/sitemaps/2026-11.xml")).text
    stylesheet = await http.get(adapter.static.site.stylesheet)
    assert stylesheet.status_code == 200 and stylesheet.headers["content-type"].startswith("text/css")

    missing = await http.get("/2026/11/khong-co-bai-nay.html")
    assert missing.status_code == 404 and "Không tìm thấy trang" in missing.text
    assert (
        await http.get("/_index/entries/" + CONTENT_ID + ".json")
    ).status_code == 404  # internals stay hidden
    assert (await http.get("/../etc/passwd")).status_code == 404

    changed = article(
        CONTENT_ID,
        version=2,
        media=[image],
        title="Cập nhật: Hội nghị tổng kết chuyển đổi số năm 2026",
        approved_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
    )
    post2 = await adapter.render(changed, changed.targets[0], account)
    await adapter.update(post2, result, account)
    again = await http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 200 and "Cập nhật: Hội nghị tổng kết" in again.text
    assert (
        "Cập nhật: Hội nghị tổng kết"
        in feedparser.parse((await http.get("/atom.xml")).content).entries[0].title
    )

    await adapter.retract(result, account)
    gone = await http.get(path)
    assert gone.status_code == 410 and "Bài viết đã được gỡ bỏ" in gone.text
    assert path not in (await http.get("/")).text
    assert feedparser.parse((await http.get("/rss.xml")).content).entries == []
    assert feedparser.parse((await http.get("/atom.xml")).content).entries == []
    assert result.url not in (await http.get("/sitemaps/2026-11.xml")).text
    assert path not in (await http.get("/chu-de/chuyen-doi-so/")).text


async def test_retract_mode_delete_leaves_a_plain_404(settings: LoaSettings) -> None:
    ws = WebsiteSettings(**settings.model_dump(), website_retract_mode="delete")
    adapter = WebsiteAdapter(FakeContext(make_media(settings)), ws)
    account = static_account()
    content = article("01JD5Z8Q4M9R3T7V2X6YSRV002")
    result = await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    await adapter.retract(result, account)
    with RunningServer(adapter.static.bucket) as server:
        async with httpx.AsyncClient() as client:
            assert (await client.get(server.url + result.external_id)).status_code == 404

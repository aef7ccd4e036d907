"""Website, end to end: Kafka → the website publisher → pages in MinIO, read over the 8082 server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest

from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from services.website.site.bucket import SiteBucket
from tests.e2e.conftest import StartRun
from tests.e2e.support import PUBLISHED_PATH, TITLE, ChannelRun, S, article, fast_settings, jpeg, put_media
from tests.website_support import RunningServer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def run(settings: LoaSettings, tmp_path: Path, start_run: StartRun) -> ChannelRun:
    """The website publisher, started, with one static site account ``cong-ttdt``."""
    return await start_run(
        ChannelRun(
            WebsiteAdapter,
            fast_settings(settings, WebsiteSettings, tmp_path, website_serve=False),
            {"cong-ttdt": ({}, {"mode": "static"})},
        )
    )


async def test_sample_article_is_served_indexed_updated_and_withdrawn(
    settings: LoaSettings, media: MediaStore, run: ChannelRun
) -> None:
    c = article(
        "website", "cong-ttdt", [put_media(media, jpeg(), "image/jpeg", alt="Trung tâm hành chính công")]
    )
    await run.approve(c)
    last = await run.until_state(c.id, "cong-ttdt", S.PUBLISHED)
    assert run.states(c.id, "cong-ttdt") == PUBLISHED_PATH
    url = canonical_url(c, str(settings.website_base_url))
    assert last.public_url == url
    path = urlsplit(url).path

    bucket = SiteBucket(media.client, media.website_bucket)
    with RunningServer(bucket) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            page = await http.get(path)
            assert page.status_code == 200
            assert f"<h1>{TITLE}</h1>" in page.text
            assert path in (await http.get("/")).text
            rss = feedparser.parse((await http.get("/rss.xml")).content)
            atom = feedparser.parse((await http.get("/atom.xml")).content)
            assert not rss.bozo and not atom.bozo
            assert [e.link for e in rss.entries] == [url] == [e.link for e in atom.entries]
            month = "-".join(path.strip("/").split("/")[:2])
            assert f"sitemaps/{month}.xml" in (await http.get("/sitemap.xml")).text
            assert url in (await http.get(f"/sitemaps/{month}.xml")).text

            edited = article(
                "website", "cong-ttdt", c.media, cid=c.id, version=2, title="Đính chính: " + TITLE
            )
            await run.update(edited)
            await run.until_version(c.id, "cong-ttdt", 2, S.PUBLISHED)
            page = await http.get(path)  # the URL stays the first one
            assert page.status_code == 200 and "Đính chính: " in page.text

            await run.retract(c.id)
            await run.until_state(c.id, "cong-ttdt", S.RETRACTED)
            gone = await http.get(path)
            assert gone.status_code == 410
            assert path not in (await http.get("/")).text
            assert feedparser.parse((await http.get("/rss.xml")).content).entries == []
            assert url not in (await http.get(f"/sitemaps/{month}.xml")).text


async def test_prose_that_looks_like_code_is_published_and_shown_as_text(
    settings: LoaSettings, media: MediaStore, run: ChannelRun
) -> None:
    """Issue #19: such titles were refused at the edge; now they publish and every page escapes them."""
    title = "Khóa học JavaScript: cơ bản — mua sắm online = 40%, lạm phát <4% & <script> là gì?"
    c = article(
        "website",
        "cong-ttdt",
        [],
        title=title,
        summary="Thẻ <img src=x onerror=alert(1)> chỉ là ví dụ trong bài giảng.",
        body="<p>Học viên gõ javascript: và onclick = trong bảng điều khiển; giá &lt; 5 triệu.</p>",
    )
    await run.approve(c)
    await run.until_state(c.id, "cong-ttdt", S.PUBLISHED)
    path = urlsplit(canonical_url(c, str(settings.website_base_url))).path
    with RunningServer(SiteBucket(media.client, media.website_bucket)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            page = (await http.get(path)).text
            front = (await http.get("/")).text
    escaped = (
        "Khóa học JavaScript: cơ bản — mua sắm online = 40%, lạm phát &lt;4% &amp; &lt;script&gt; là gì?"
    )
    assert f"<h1>{escaped}</h1>" in page
    assert escaped in front
    assert "Thẻ &lt;img src=x onerror=alert(1)&gt; chỉ là ví dụ" in page
    assert "Học viên gõ javascript: và onclick = trong bảng điều khiển; giá &lt; 5 triệu." in page
    assert "<script>" not in page and "<img src=x" not in page

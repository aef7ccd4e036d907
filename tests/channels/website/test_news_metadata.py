"""What news search reads from the site (#24 item 3), on real MinIO: the Google News sitemap lists
the articles of the last two days with the spec's required tags, the article page carries
``NewsArticle`` JSON-LD, and ``article:modified_time`` / ``dateModified`` move on an update and on
a correction."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from loa.events import DEFAULT_TIMEZONE
from services.website.adapter import WebsiteAdapter
from tests.channels.website.test_static_site import adapter, publish, site, text
from tests.website_support import static_account, store_image

__all__ = ["adapter"]  # the fixture, shared with the static-site tests

NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
# Google's news sitemap reference (developers.google.com/search/docs/crawling-indexing/sitemaps/
# news-sitemap, "Required tags"): <news:news> with <news:publication> (<news:name>,
# <news:language>), <news:publication_date> (W3C format) and <news:title>.
REQUIRED = (
    "news:publication/news:name",
    "news:publication/news:language",
    "news:publication_date",
    "news:title",
)
FRESH = "01JD5Z8Q4M9R3T7V2X6YNEWS01"
OLD = "01JD5Z8Q4M9R3T7V2X6YNEWS02"
FIX = "01JD5Z8Q4M9R3T7V2X6YNEWS03"
FRESH_TITLE = "Hà Nội khánh thành cầu Đông Trù mở rộng, giảm ùn tắc cửa ngõ phía Đông"


def news_urls(adapter: WebsiteAdapter) -> dict[str, ET.Element]:
    root = ET.fromstring(text(site(adapter), "news-sitemap.xml"))
    return {u.findtext("s:loc", namespaces=NS) or "": u for u in root.findall("s:url", NS)}


def json_ld(page: str) -> dict[str, Any]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])  # type: ignore[no-any-return]


def modified_time(page: str) -> str:
    found = re.search(r'<meta property="article:modified_time" content="([^"]+)">', page)
    assert found is not None
    return found.group(1)


def local(when: datetime) -> str:
    return when.astimezone(DEFAULT_TIMEZONE).isoformat(timespec="seconds")


async def test_the_news_sitemap_lists_the_last_two_days(adapter: WebsiteAdapter) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fresh = await publish(adapter, FRESH, title=FRESH_TITLE, approved_at=now - timedelta(hours=3))
    await publish(adapter, OLD, approved_at=now - timedelta(days=3))

    urls = news_urls(adapter)
    assert list(urls) == [fresh.url]  # the article of three days ago is not news any more
    news = urls[fresh.url or ""].find("news:news", NS)
    assert news is not None
    for tag in REQUIRED:
        assert (news.findtext(tag, namespaces=NS) or "").strip(), tag
    assert news.findtext("news:publication/news:name", namespaces=NS) == adapter.static.site.name
    assert news.findtext("news:publication/news:language", namespaces=NS) == "vi"
    assert news.findtext("news:title", namespaces=NS) == FRESH_TITLE
    published = datetime.fromisoformat(news.findtext("news:publication_date", namespaces=NS) or "")
    assert published == now - timedelta(hours=3) and published.utcoffset() == timedelta(hours=7)
    index = ET.fromstring(text(site(adapter), "sitemap.xml"))
    news_sitemap = adapter.static.site.base_url + "/news-sitemap.xml"
    assert news_sitemap in [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]

    await adapter.retract(fresh, static_account())
    assert news_urls(adapter) == {}


async def test_news_article_json_ld_and_modified_time_follow_updates_and_corrections(
    adapter: WebsiteAdapter,
) -> None:
    published = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    image = store_image(adapter.context.media, alt="Cầu Đông Trù mở rộng nhìn từ trên cao")
    first = await publish(adapter, FRESH, title=FRESH_TITLE, media=[image], approved_at=published)
    bucket, key = site(adapter), (first.external_id or "").lstrip("/")
    page = text(bucket, key)
    ld = json_ld(page)
    # schema.org NewsArticle; Google's Article structured data recommends these properties
    # (developers.google.com/search/docs/appearance/structured-data/article).
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "NewsArticle"
    assert ld["headline"] == FRESH_TITLE and ld["inLanguage"] == "vi"
    assert ld["datePublished"] == ld["dateModified"] == local(published) == modified_time(page)
    assert ld["author"] == [
        {
            "@type": "GovernmentOrganization",
            "name": "Vụ Hợp tác quốc tế",
            "url": adapter.static.site.base_url + "/don-vi/vu-hop-tac-quoc-te/",
        }
    ]
    assert ld["publisher"]["name"] == adapter.static.site.name
    assert ld["image"] == [adapter.static.site.base_url + "/media/" + image.sha256]
    assert ld["url"] == first.url

    updated_at = published + timedelta(hours=5)
    await publish(adapter, FRESH, version=2, title=FRESH_TITLE, media=[image], approved_at=updated_at)
    page = text(bucket, key)
    assert json_ld(page)["dateModified"] == modified_time(page) == local(updated_at)
    assert json_ld(page)["datePublished"] == local(published)

    corrected_at = published + timedelta(days=1)
    await publish(
        adapter,
        FIX,
        title="Đính chính thời điểm khánh thành cầu Đông Trù mở rộng",
        approved_at=corrected_at,
        kind="correction",
        corrects=FRESH,
    )
    page = text(bucket, key)
    assert "correction-notice" in page
    assert json_ld(page)["dateModified"] == modified_time(page) == local(corrected_at)

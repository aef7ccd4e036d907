"""Corrections ("Đính chính", #17 item 2) on the static site, on real MinIO: the corrected article
gets a dated notice at its top linking to the correction, the correction links back, both are in
the feeds and the sitemap with the correction's date; a retried delivery changes nothing; a
correction that comes before its original links back once the original is published; a retracted
correction's notice leaves the original."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import feedparser
import pytest

from loa.channels import PublishResult
from loa.events import Content
from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.site.bucket import SiteBucket
from tests.channels.website.test_static_site import website_settings
from tests.website_support import FakeContext, article, make_media, static_account

pytestmark = pytest.mark.integration

ORIGINAL = "01JD5Z8Q4M9R3T7V2XDAN0GOC1"
CORRECTION = "01JD5Z8Q4M9R3T7V2XDINHCH1"
ORIGINAL_TITLE = "Đà Nẵng giải ngân 15.200 tỷ đồng vốn đầu tư công trong 11 tháng"
CORRECTED_AT = datetime(2026, 11, 28, 9, 15, tzinfo=UTC)  # 28/11/2026 16:15 in Hà Nội


@pytest.fixture
def adapter(settings: LoaSettings) -> WebsiteAdapter:
    return WebsiteAdapter(FakeContext(make_media(settings)), website_settings(settings))


def original() -> Content:
    return article(
        ORIGINAL,
        title=ORIGINAL_TITLE,
        summary="Theo Sở Tài chính, vốn đầu tư công giải ngân đến hết tháng 11 đạt 15.200 tỷ đồng, "
        "cao nhất từ trước đến nay; các dự án cầu, đường ven biển về đích sớm.",
        body="<p>Sáng 26/11, Sở Tài chính Đà Nẵng công bố kết quả giải ngân vốn đầu tư công 11 tháng. "
        "Các công trình trọng điểm như đường ven biển Liên Chiểu, cầu Nguyễn Tri Phương mở rộng và "
        "khu công nghệ cao được ưu tiên bố trí vốn.</p>",
        unit="Sở Tài chính Đà Nẵng",
    )


def correction(version: int = 1) -> Content:
    return article(
        CORRECTION,
        version=version,
        title="Đính chính số liệu giải ngân vốn đầu tư công của Đà Nẵng",
        summary="Số liệu đúng là 12.500 tỷ đồng, không phải 15.200 tỷ đồng như đã đăng.",
        body="<p>Sở Tài chính Đà Nẵng đính chính: số vốn đầu tư công giải ngân trong 11 tháng là "
        "12.500 tỷ đồng, không phải 15.200 tỷ đồng như đã đăng. Xin lỗi bạn đọc.</p>",
        unit="Sở Tài chính Đà Nẵng",
        approved_at=CORRECTED_AT,
        kind="correction",
        corrects=ORIGINAL,
    )


async def publish(adapter: WebsiteAdapter, content: Content) -> PublishResult:
    account = static_account()
    post = await adapter.render(content, content.targets[0], account)
    return await adapter.publish(post, account)


def text(bucket: SiteBucket, path: str) -> str:
    raw = bucket.get(path.lstrip("/"))
    assert raw is not None, f"{path} missing"
    return raw.decode()


def notices(page: str) -> list[str]:
    return re.findall(r'<aside class="correction-notice".*?</aside>', page, re.S)


async def test_the_original_shows_a_dated_notice_and_the_correction_links_back(
    adapter: WebsiteAdapter,
) -> None:
    bucket = adapter.static.bucket
    first = await publish(adapter, original())
    assert notices(text(bucket, first.external_id)) == []
    second = await publish(adapter, correction())

    page = text(bucket, first.external_id)
    [notice] = notices(page)
    assert "Đính chính ngày" in notice and "28/11/2026" in notice
    assert f'href="{second.external_id}"' in notice
    assert "Đính chính số liệu giải ngân vốn đầu tư công của Đà Nẵng" in notice
    assert page.index("correction-notice") < page.index("<h1>"), "the notice is at the top"
    back = text(bucket, second.external_id)
    assert f'Bài này đính chính: <a href="{first.external_id}">{ORIGINAL_TITLE}</a>' in back

    atom = feedparser.parse(text(bucket, "atom.xml"))
    updated = {e.link: e.updated for e in atom.entries}
    assert updated[first.url] == "2026-11-28T16:15:00+07:00", (
        "the original's entry takes the correction's date"
    )
    assert updated[second.url] == "2026-11-28T16:15:00+07:00"
    rss = feedparser.parse(text(bucket, "rss.xml"))
    assert {first.url, second.url} <= {e.link for e in rss.entries}
    sitemap = text(bucket, "sitemaps/2026-11.xml")
    lastmod = dict(re.findall(r"<loc>([^<]+)</loc><lastmod>([^<]+)</lastmod>", sitemap))
    assert set(lastmod) >= {first.url, second.url}

    # A retried delivery of the correction (the job found in doubt) renders the same bytes.
    before = {path: text(bucket, path) for path in (first.external_id, second.external_id)}
    await publish(adapter, correction())
    assert {path: text(bucket, path) for path in before} == before
    assert len(notices(text(bucket, first.external_id))) == 1

    # A new version of the original keeps its notice (and the correction names its new title);
    # retracting the correction removes the notice.
    retitled = "Đà Nẵng giải ngân 12.500 tỷ đồng vốn đầu tư công trong 11 tháng"
    await publish(adapter, original().model_copy(update={"version": 2, "title": retitled}))
    assert len(notices(text(bucket, first.external_id))) == 1
    back = text(bucket, second.external_id)
    assert f'Bài này đính chính: <a href="{first.external_id}">{retitled}</a>' in back
    await adapter.retract(second, static_account())
    assert notices(text(bucket, first.external_id)) == []
    atom = feedparser.parse(text(bucket, "atom.xml"))
    assert [e.link for e in atom.entries] == [first.url]


async def test_a_correction_before_its_original_links_back_once_the_original_is_published(
    adapter: WebsiteAdapter,
) -> None:
    bucket = adapter.static.bucket
    early = await publish(adapter, correction())
    page = text(bucket, early.external_id)
    assert "Bài này đính chính một thông tin đã công bố trước đây." in page
    assert "Bài này đính chính: <a" not in page

    late = await publish(adapter, original())
    assert len(notices(text(bucket, late.external_id))) == 1
    back = text(bucket, early.external_id)
    assert f'Bài này đính chính: <a href="{late.external_id}">{ORIGINAL_TITLE}</a>' in back

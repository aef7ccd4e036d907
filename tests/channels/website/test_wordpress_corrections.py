"""A correction in WordPress mode: its link step puts the static site's dated notice on top of the
original post and the link back on top of the correction's post (``services/website/wp_corrections.py``),
against the sandbox's WordPress emulator (WordPress REST API Handbook, reference/posts/: update
with ``content``, ``context=edit`` for ``content.raw``, ``404 rest_post_invalid_id``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from loa.channels import Account, PermanentError, PublishResult, Secret
from loa.channels.corrections import CorrectionLink
from loa.events import DEFAULT_TIMEZONE, Content
from loa.testing.context import FakeContext
from services.sandbox import wordpress as emulator
from services.sandbox.client import SandboxClient
from services.sandbox.frame import sandbox as frame
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from services.website.wp_corrections import NOTICE as NOTICE_KIND
from services.website.wp_corrections import Block, has_block, with_block
from tests.support.corrections import as_correction, correction_link, linked_once
from tests.website_support import article

pytestmark = pytest.mark.integration

PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
ORIGINAL = "01JD5Z8Q4M9R3T7V2X6YWPRDC1"
TITLE = "Đính chính: Đắk Lắk có 1.250 ca sốt xuất huyết, không phải 12.500"
NOTICE = re.compile(r'<aside class="correction-notice".*?</aside>', re.S)


@pytest.fixture
async def adapter(sandbox: SandboxClient, sandbox_url: str) -> AsyncIterator[WebsiteAdapter]:
    """The website adapter on a WordPress account of the sandbox (text only: no media store)."""
    adapter = WebsiteAdapter(FakeContext(), WebsiteSettings(website_wordpress_url=f"{sandbox_url}/wordpress"))
    yield adapter
    await adapter.aclose()


def wp_account(name: str = "wp") -> Account:
    credentials = {"username": Secret("bientap"), "application_password": Secret(PASSWORD)}
    return Account("website", name, credentials, {"mode": "wordpress"})


async def publish(adapter: WebsiteAdapter, content: Content, account: Account) -> PublishResult:
    return await adapter.publish(await adapter.render(content, content.targets[0], account), account)


async def published_pair(
    adapter: WebsiteAdapter, account: Account, title: str = TITLE, original_id: str = ORIGINAL
) -> tuple[PublishResult, PublishResult, Content]:
    """The original and its correction, each published on ``account``."""
    original = article(original_id, account=account.name)
    correction = as_correction(article(original_id, account=account.name), original.id, title)
    return await publish(adapter, original, account), await publish(adapter, correction, account), correction


def link_of(
    adapter: WebsiteAdapter, correction: Content, first: PublishResult, own: PublishResult | None
) -> CorrectionLink:
    """The link step the runtime hands the adapter for ``correction`` on the account ``wp``."""
    return correction_link(adapter, correction, first, own, account=wp_account())


def raw(result: PublishResult) -> str:
    return str(emulator.state.posts[int(result.external_id)]["content"])


def updates() -> list[dict[str, Any]]:
    return [r.data for r in frame.list("wordpress", "update")]


def day_of(result: PublishResult) -> str:
    """The day WordPress dates the post (its ``date_gmt``) in Asia/Ho_Chi_Minh, as the notice shows it."""
    date_gmt = emulator.state.posts[int(result.external_id)]["date_gmt"]
    return f"{datetime.fromisoformat(date_gmt).replace(tzinfo=UTC).astimezone(DEFAULT_TIMEZONE):%d/%m/%Y}"


async def test_the_original_gets_one_dated_notice_and_the_correction_links_back(
    adapter: WebsiteAdapter,
) -> None:
    account = wp_account()
    first, own, correction = await published_pair(adapter, account)
    body_before = raw(first)
    link = link_of(adapter, correction, first, own)
    made = await linked_once(adapter, link, account)

    [notice] = NOTICE.findall(raw(first))
    assert "<strong>Đính chính ngày <time datetime=" in notice
    assert f">{day_of(own)}</time>:</strong>" in notice
    assert f'<a href="{own.url}">{TITLE}</a> – Năm 2026, 68% hồ sơ' in notice  # the static site's wording
    assert raw(first).startswith("<!-- loa:dinh-chinh ") and raw(first).endswith(body_before)
    assert "\n" not in notice, "one line: wpautop would break a notice written over several"
    original_title = "Đẩy mạnh chuyển đổi số: Hội nghị tổng kết năm 2026 của Bộ Thông tin và Truyền thông"
    back = f'<p class="corrects">Bài này đính chính: <a href="{first.url}">{original_title}</a></p>'
    assert raw(own).startswith(f"<!-- loa:ban-goc {ORIGINAL} -->{back}<!-- /loa:ban-goc -->\n")
    assert made.url == f"{first.url}#dinh-chinh-{correction.id}"
    assert made.extra["original_id"] == first.external_id
    assert [u["id"] for u in updates()] == [int(first.external_id), int(own.external_id)]

    again = await adapter.link_correction(link, account)  # a retry after a crash that followed the calls
    assert again.external_id == made.external_id
    assert len(NOTICE.findall(raw(first))) == 1 and raw(own).count("Bài này đính chính") == 1
    assert len(updates()) == 2, "nothing written again"


async def test_a_crash_between_the_notice_and_the_link_back_is_completed_once(
    adapter: WebsiteAdapter,
) -> None:
    account = wp_account()
    first, own, correction = await published_pair(adapter, account)
    link = link_of(adapter, correction, first, own)
    await adapter.link_correction(link, account)
    own_post = emulator.state.posts[int(own.external_id)]
    own_post["content"] = re.sub(r"<!-- loa:ban-goc .*?<!-- /loa:ban-goc -->\n", "", own_post["content"])

    assert await adapter.find_correction_link(link, account) is None, "half made: linked again"
    await adapter.link_correction(link, account)
    assert len(NOTICE.findall(raw(first))) == 1 and raw(own).count("Bài này đính chính") == 1
    assert await adapter.find_correction_link(link, account) is not None


async def test_two_corrections_two_notices_oldest_first_and_a_new_version_keeps_them(
    adapter: WebsiteAdapter,
) -> None:
    account = wp_account()
    first, own, correction = await published_pair(adapter, account)
    other = article("01JD5Z8Q4M9R3T7V2X6YWPRDC2", account="wp")
    second = as_correction(other, ORIGINAL, "Đính chính lần hai")
    own2 = await publish(adapter, second, account)
    await adapter.link_correction(link_of(adapter, correction, first, own), account)
    await adapter.link_correction(link_of(adapter, second, first, own2), account)
    assert [own.url in n for n in NOTICE.findall(raw(first))] == [True, False]

    v2 = article(ORIGINAL, version=2, account="wp", body="<p>Số liệu đã được Sở Y tế Đắk Lắk cập nhật.</p>")
    await adapter.update(await adapter.render(v2, v2.targets[0], account), first, account)
    notices = NOTICE.findall(raw(first))
    assert len(notices) == 2 and own.url in notices[0] and own2.url in notices[1]
    assert raw(first).endswith("<p>Số liệu đã được Sở Y tế Đắk Lắk cập nhật.</p>")
    fixed = as_correction(article(ORIGINAL, version=2, account="wp"), ORIGINAL, TITLE + " (bản sửa)")
    await adapter.update(await adapter.render(fixed, fixed.targets[0], account), own, account)
    assert raw(own).startswith(f"<!-- loa:ban-goc {ORIGINAL} -->"), "the correction keeps its link back"


async def test_an_original_gone_from_wordpress_or_no_correction_post_is_permanent(
    adapter: WebsiteAdapter,
) -> None:
    account = wp_account()
    first, own, correction = await published_pair(adapter, account)
    with pytest.raises(PermanentError, match="no post on this WordPress site") as none:
        await adapter.link_correction(link_of(adapter, correction, first, None), account)
    assert none.value.code == "no_correction_post"
    del emulator.state.posts[int(first.external_id)]  # an editor deleted it for good in wp-admin
    with pytest.raises(PermanentError) as gone:
        await adapter.link_correction(link_of(adapter, correction, first, own), account)
    assert gone.value.code == "rest_post_invalid_id"
    assert updates() == []


def test_only_a_wordpress_account_links_a_correction(adapter: WebsiteAdapter) -> None:
    """The static site renders both articles within the correction's own delivery: no link step."""
    correction = as_correction(article(ORIGINAL), ORIGINAL, TITLE)
    target = correction.targets[0]
    static = Account("website", "main", {}, {"mode": "static"})
    assert adapter.links_correction(correction, target, wp_account())
    assert not adapter.links_correction(correction, target, static)
    assert not adapter.links_correction(correction, target, None)


def test_a_block_is_found_again_after_kses_folds_the_dashes_in_its_comments() -> None:
    """For a user without ``unfiltered_html`` WordPress runs kses on ``content``, which keeps HTML
    comments but folds runs of ``-`` in them (``wp_kses_split2``, wp-includes/kses.php)."""
    correction_id = "dc--tb-goc--1"
    block = Block.of(NOTICE_KIND, correction_id, '<aside class="correction-notice">Đính chính</aside>')

    def kses(comment: re.Match[str]) -> str:
        return "<!--" + re.sub("--+", "-", comment[1]).removesuffix("-") + "-->"

    saved = re.sub(r"<!--(.*?)-->", kses, with_block("<p>Nội dung bài gốc.</p>", block), flags=re.S)
    assert "--tb" not in saved and has_block(saved, NOTICE_KIND, correction_id)
    assert with_block(saved, block) == saved, "not written a second time"

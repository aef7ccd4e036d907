"""A correction on Zalo: its article names the original on top of its body, and is broadcast at most once."""

from __future__ import annotations

import pytest

from loa.channels import Account, PermanentError, PublishResult
from loa.events import Content, Target
from loa.testing.context import FakeContext
from services.sandbox import zalo as emulator
from services.zalo.adapter import ZaloAdapter
from tests.channels.zalo.test_zalo import _content, _records, account, adapter, oa
from tests.support.corrections import as_correction, correction_link

pytestmark = pytest.mark.integration
__all__ = ["account", "adapter", "oa"]  # the fixtures of test_zalo, used here

TITLE = "Đính chính: Đề án 06 triển khai tại 63 tỉnh, thành phố"


async def _published(
    adapter: ZaloAdapter, account: Account, context: FakeContext, options: dict[str, bool] | None = None
) -> tuple[PublishResult, PublishResult, Content]:
    original = _content(context)
    target = Target(channel="zalo", account="bo-tttt", options=options or {})
    correction = as_correction(_content(context, targets=[target]), original.id, TITLE)
    first = await adapter.publish(await adapter.render(original, original.targets[0], account), account)
    own = await adapter.publish(await adapter.render(correction, correction.targets[0], account), account)
    return first, own, correction


def _broadcasts(sandbox_url: str, article: PublishResult) -> list[dict[str, str]]:
    return [b for b in _records(sandbox_url, "broadcast") if b["article_id"] == article.external_id]


async def test_the_correction_article_names_its_original_on_top_of_its_body(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str
) -> None:
    first, own, correction = await _published(adapter, account, context)
    link = correction_link(adapter, correction, first, own)
    assert await adapter.find_correction_link(link, account) is None
    result = await adapter.link_correction(link, account)

    body = emulator.state.articles[own.external_id]["body"]
    assert body[0] == {"type": "text", "content": f"Đính chính cho bài: {first.url}"}
    assert body[-1]["content"].startswith("Nguồn: ")  # the rest of the article stays
    assert result.extra["broadcast_id"] is None and _broadcasts(sandbox_url, own) == []
    assert await adapter.find_correction_link(link, account) is not None
    await adapter.link_correction(link, account)  # a retry: the body names the original once
    assert emulator.state.articles[own.external_id]["body"] == body


async def test_notify_followers_broadcasts_the_correction_once_from_its_link_step(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str
) -> None:
    first, own, correction = await _published(adapter, account, context, {"notify_followers": True})
    assert _broadcasts(sandbox_url, own) == []  # not before the article names its original
    link = correction_link(adapter, correction, first, own)
    result = await adapter.link_correction(link, account)
    await adapter.link_correction(link, account)
    [broadcast] = _broadcasts(sandbox_url, own)
    assert result.extra["broadcast_id"] == broadcast["message_id"]


async def test_a_broadcast_started_but_unanswered_is_never_sent_again(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str
) -> None:
    first, own, correction = await _published(adapter, account, context, {"notify_followers": True})
    link = correction_link(adapter, correction, first, own)
    link.post.progress["broadcast_started"] = True  # a crash between the call and its answer
    found = await adapter.link_correction(link, account)
    assert found.extra["broadcast_id"] == "unconfirmed"
    assert _broadcasts(sandbox_url, own) == []


async def test_no_correction_article_on_the_oa_is_permanent(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    first, _own, correction = await _published(adapter, account, context)
    with pytest.raises(PermanentError, match="correction's own article"):
        await adapter.link_correction(correction_link(adapter, correction, first, None), account)

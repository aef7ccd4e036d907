"""A correction on X: a reply to the original's first post (or a quote of it), found again after a crash."""

from __future__ import annotations

from typing import Any

import pytest

from loa.channels import Account, PublishResult
from loa.events import Content, Target
from services.x.adapter import XAdapter
from services.x.counting import weighted_length
from tests.channels.x.test_x import LONG_TEXT, _content, _records, account, adapter, media_store, x_user
from tests.support.corrections import as_correction, correction_link, linked_once

pytestmark = pytest.mark.integration
__all__ = ["account", "adapter", "media_store", "x_user"]  # the fixtures of test_x, used here

TITLE = "Đính chính: Đà Nẵng đứng thứ hai, không phải thứ nhất, về chính quyền số"


async def _original_and_correction(
    adapter: XAdapter, account: Account, options: dict[str, str] | None = None, text: str | None = None
) -> tuple[PublishResult, PublishResult, Content]:
    original = _content(summary=text) if text else _content()
    target = Target(channel="x", account="bo-tttt", options=options or {})
    correction = as_correction(
        _content(summary="Số liệu đúng: Đà Nẵng thứ hai.", targets=[target]), original.id, TITLE
    )
    first = await adapter.publish(await adapter.render(original, original.targets[0], account), account)
    own = await adapter.publish(await adapter.render(correction, correction.targets[0], account), account)
    return first, own, correction


def _sent(sandbox_url: str, result: PublishResult) -> dict[str, Any]:
    """What the emulator received for ``result`` (the newest post of that id: each test starts X afresh)."""
    return [t for t in _records(sandbox_url, "tweet") if t["id"] == result.external_id][-1]


async def test_a_correction_replies_to_the_first_post_of_the_original_thread(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    first, own, correction = await _original_and_correction(adapter, account, text=LONG_TEXT)
    assert len(first.extra["tweet_ids"]) > 1, "the original is a thread"
    result = await adapter.link_correction(correction_link(adapter, correction, first, own), account)

    reply = _sent(sandbox_url, result)
    assert reply["in_reply_to_tweet_id"] == first.external_id and reply["quote_tweet_id"] is None
    assert reply["text"] == f"{TITLE}\n{own.url}"
    assert result.extra["as"] == "reply"


async def test_correction_link_quote_quotes_the_original(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    first, own, correction = await _original_and_correction(adapter, account, {"correction_link": "quote"})
    result = await adapter.link_correction(correction_link(adapter, correction, first, own), account)

    quote = _sent(sandbox_url, result)
    assert quote["quote_tweet_id"] == first.external_id and quote["in_reply_to_tweet_id"] is None


async def test_the_reply_is_found_after_an_interruption_not_posted_again(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    first, own, correction = await _original_and_correction(adapter, account)
    link = correction_link(adapter, correction, first, own)
    await linked_once(adapter, link, account)


def test_a_long_title_is_cut_to_one_post_and_a_bad_option_is_refused(adapter: XAdapter) -> None:
    correction = as_correction(_content(), "tb-goc", "Đính chính: " + "số liệu về chuyển đổi số " * 8)
    original = PublishResult("1", "https://x.com/i/web/status/1")
    text = XAdapter.correction_text(correction_link(adapter, correction, original))
    assert weighted_length(text) <= 280 and "…\n" in text
    target = Target(channel="x", account="bo-tttt", options={"correction_link": "retweet"})
    refused = XAdapter.refuse_target(correction, target, "https://loa.example/a")
    assert refused is not None and refused.startswith("options.correction_link:")

"""A correction on Facebook: a comment on the original post with the correction's link, and a pin."""

from __future__ import annotations

from typing import Any

import pytest

from loa.channels import Account, PermanentError, PublishResult
from loa.events import Content
from services.facebook.adapter import FacebookAdapter
from services.sandbox.facebook import Page, state
from services.sandbox.facebook_comments import comments_of
from tests.channels.facebook.helpers import make_content
from tests.support.corrections import as_correction, correction_link, linked_once

pytestmark = pytest.mark.integration

TITLE = "Đính chính: số liệu tiêm chủng tại Đắk Lắk là 12.500 liều, không phải 125.000"


async def _published(
    adapter: FacebookAdapter, account: Account, options: dict[str, Any] | None = None
) -> tuple[PublishResult, PublishResult, Content]:
    """The original and its correction (target ``options``), both published on the page."""
    original = make_content(account=account)
    targets = [{"channel": "facebook", "account": account.name, "options": options or {}}]
    correction = as_correction(make_content(account=account, targets=targets), original.id, TITLE)
    first = await adapter.publish(await adapter.render(original, original.targets[0], account), account)
    fixed = await adapter.publish(await adapter.render(correction, correction.targets[0], account), account)
    return first, fixed, correction


async def test_the_original_post_gets_a_comment_linking_the_correction(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    first, fixed, correction = await _published(adapter, account)
    link = correction_link(adapter, correction, first, fixed)
    result = await adapter.link_correction(link, account)

    [comment] = comments_of(first.external_id)
    assert comment.message == f"{TITLE}\n{fixed.url}"
    assert result.external_id == comment.id and result.url == first.url
    assert result.extra["pinned"] is None
    assert not state().posts[fixed.external_id].pinned


async def test_pin_true_pins_the_correction_and_only_it(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    first, fixed, correction = await _published(adapter, account, {"pin": True})
    state().posts[first.external_id].pinned = True  # the page had pinned the original
    result = await adapter.link_correction(correction_link(adapter, correction, first, fixed), account)

    assert result.extra["pinned"] == fixed.external_id
    assert state().posts[fixed.external_id].pinned
    assert not state().posts[first.external_id].pinned


async def test_after_an_interruption_the_comment_is_found_not_made_again(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    first, fixed, correction = await _published(adapter, account)
    link = correction_link(adapter, correction, first, fixed)
    await linked_once(adapter, link, account)
    assert len(comments_of(first.external_id)) == 1


async def test_a_deleted_original_is_graph_error_100_and_permanent(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    first, fixed, correction = await _published(adapter, account)
    await adapter.retract(first, account)
    with pytest.raises(PermanentError) as caught:
        await adapter.link_correction(correction_link(adapter, correction, first, fixed), account)
    assert caught.value.code is not None and str(caught.value.code).startswith("100")


async def test_the_emulator_refuses_a_comment_without_message_or_on_a_missing_post(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    first, _fixed, _correction = await _published(adapter, account)
    with pytest.raises(PermanentError, match="Missing message or attachment"):
        await adapter.graph.call(page.token, f"{first.external_id}/comments", post_args={"message": ""})
    with pytest.raises(PermanentError) as caught:  # no such object to comment on
        await adapter.graph.call(page.token, f"{page.id}_404/comments", post_args={"message": "Đính chính"})
    assert caught.value.code == "100/33"

"""The Facebook adapter against the Graph API emulator, media from real MinIO."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loa.channels import Account, TransientError
from loa.events import MediaRef
from services.facebook.adapter import FacebookAdapter
from services.sandbox.facebook import Page, state
from services.sandbox.frame import sandbox
from tests.channels.facebook.helpers import FakeContext, fail_the_next_read, jpeg, make_content

pytestmark = pytest.mark.integration


def records(kind: str, page: Page) -> list[dict[str, Any]]:
    return [r.data for r in sandbox.list("facebook", kind) if r.data.get("page_id") == page.id]


async def test_link_post_carries_summary_link_and_vietnamese_hashtags(
    adapter: FacebookAdapter, account: Account, page: Page, context: FakeContext
) -> None:
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)

    graph_post = state().posts[result.external_id]
    assert graph_post.kind == "link"
    assert graph_post.link == context.canonical_url(content)
    assert graph_post.message.startswith(f"{content.title}\n\nSáng 26/11, Bộ Thông tin và Truyền thông")
    assert graph_post.message.endswith("#ChuyểnĐổiSố #DịchVụCông #ĐắkLắk")  # "2030" alone is no hashtag
    assert result.url
    assert result.external_id.split("_")[1] in result.url
    assert not result.scheduled_natively


async def test_one_photo_goes_to_photos_with_the_link_in_its_caption(
    adapter: FacebookAdapter,
    account: Account,
    page: Page,
    context: FakeContext,
    put_media: Callable[[bytes, str], MediaRef],
) -> None:
    image = jpeg(1)
    content = make_content(account=account, media=[put_media(image, "image/jpeg")])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)

    graph_post = state().posts[result.external_id]
    assert graph_post.kind == "photo"
    assert context.canonical_url(content) in graph_post.message
    photo = state().photos[graph_post.photo_ids[0]]
    assert photo.data == image
    assert photo.published
    assert photo.alt_text_custom == "Ảnh minh hoạ"  # the ingest's alt text, not Facebook's generated one
    assert result.extra["photo_ids"] == graph_post.photo_ids


async def test_several_photos_are_attached_unpublished_to_one_feed_post(
    adapter: FacebookAdapter, account: Account, page: Page, put_media: Callable[[bytes, str], MediaRef]
) -> None:
    images = [jpeg(i) for i in range(3)]
    content = make_content(account=account, media=[put_media(b, "image/jpeg") for b in images])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)

    graph_post = state().posts[result.external_id]
    assert graph_post.kind == "photos"
    assert [state().photos[p].data for p in graph_post.photo_ids] == images
    assert all(not state().photos[p].published for p in graph_post.photo_ids)
    assert {state().photos[p].alt_text_custom for p in graph_post.photo_ids} == {"Ảnh minh hoạ"}
    assert len(records("post", page)) == 1  # one feed post, not three


async def test_native_scheduling_two_hours_ahead_then_confirmed_after_the_clock_passes(
    adapter: FacebookAdapter, account: Account, page: Page, clock: Callable[[timedelta], None]
) -> None:
    due = datetime.now(UTC) + timedelta(hours=2)
    content = make_content(account=account, publish_at=due)
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)

    assert result.scheduled_natively
    assert result.extra["scheduled_publish_time"] == math.ceil(due.timestamp())  # never a second early
    assert await adapter.confirm(result, account) is None  # not live yet
    listed = await adapter.graph.call(page.token, f"{page.id}/scheduled_posts", args={"fields": "id"})
    assert [p["id"] for p in listed["data"]] == [result.external_id]

    clock(timedelta(hours=2, minutes=1))
    live = await adapter.confirm(result, account)
    assert live is not None
    assert live.external_id == result.external_id
    assert not live.scheduled_natively
    assert live.url
    feed = await adapter.graph.call(page.token, f"{page.id}/feed", args={"fields": "id,is_published"})
    assert feed["data"] == [{"id": result.external_id, "is_published": True}]


async def test_near_due_posts_are_left_to_the_runtime(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    content = make_content(account=account, publish_at=datetime.now(UTC) + timedelta(minutes=5))
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(TransientError) as caught:  # under Facebook's 10-minute minimum: never at once
        await adapter.publish(post, account)
    assert caught.value.code == "not_due"
    assert [p for p in state().posts.values() if p.page_id == page.id] == []


async def test_update_edits_the_message_and_retract_deletes(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)

    changed = make_content(
        account=account, id=content.id, version=2, summary="Cập nhật: hội nghị lùi sang chiều 27/11."
    )
    new_post = await adapter.render(changed, changed.targets[0], account)
    updated = await adapter.update(new_post, result, account)
    assert updated.external_id == result.external_id
    assert "Cập nhật: hội nghị lùi sang chiều 27/11." in state().posts[result.external_id].message

    await adapter.retract(updated, account)
    assert result.external_id not in state().posts
    await adapter.retract(updated, account)  # already gone: still fine


async def test_retract_removes_a_natively_scheduled_post_before_it_goes_out(
    adapter: FacebookAdapter, account: Account, page: Page, clock: Callable[[timedelta], None]
) -> None:
    content = make_content(account=account, publish_at=datetime.now(UTC) + timedelta(hours=3))
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    await adapter.retract(result, account)
    clock(timedelta(hours=4))
    feed = await adapter.graph.call(page.token, f"{page.id}/feed", args={"fields": "id"})
    assert feed["data"] == []


async def test_find_existing_finds_an_accepted_post_and_nothing_else(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    assert await adapter.find_existing(post, account) is None
    result = await adapter.publish(post, account)

    # A restarted publisher renders the job again: the same marker finds the same post.
    again = await adapter.render(content, content.targets[0], account)
    again.progress = dict(post.progress)
    found = await adapter.find_existing(again, account)
    assert found is not None
    assert found.external_id == result.external_id

    other = make_content(account=account, summary="Một bài khác hoàn toàn.")
    assert (
        await adapter.find_existing(await adapter.render(other, other.targets[0], account), account) is None
    )


async def test_find_existing_sees_natively_scheduled_posts(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    content = make_content(account=account, publish_at=datetime.now(UTC) + timedelta(hours=2))
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    found = await adapter.find_existing(post, account)
    assert found is not None
    assert found.external_id == result.external_id
    assert found.scheduled_natively


async def test_a_lost_read_of_the_link_after_the_post_is_made_leaves_it_published_once(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    # The link is read after the post is made (GET /{post-id}?fields=permalink_url): its failure
    # raised as the publish's error, and the runtime's retry would post a second copy.
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    fail_the_next_read()

    result = await adapter.publish(post, account)

    assert [p.id for p in state().posts.values() if p.page_id == page.id] == [result.external_id]
    assert result.url is None

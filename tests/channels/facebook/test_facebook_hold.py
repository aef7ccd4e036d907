"""A hold on a natively scheduled Facebook post: pulled back (deleted while unpublished), nothing
goes out when its old time passes, and ``publish`` after the release schedules it again."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loa.channels import Account, Post, PublishResult
from services.facebook.adapter import FacebookAdapter
from services.sandbox.facebook import Page
from tests.channels.facebook.helpers import make_content

pytestmark = pytest.mark.integration


async def scheduled_ids(adapter: FacebookAdapter, page: Page) -> list[str]:
    listed = await adapter.graph.call(page.token, f"{page.id}/scheduled_posts", args={"fields": "id"})
    return [p["id"] for p in listed["data"]]


async def feed_ids(adapter: FacebookAdapter, page: Page) -> list[str]:
    feed = await adapter.graph.call(page.token, f"{page.id}/feed", args={"fields": "id"})
    return [p["id"] for p in feed["data"]]


async def scheduled_post(
    adapter: FacebookAdapter, account: Account, due: datetime, **over: Any
) -> tuple[Post, PublishResult]:
    """A post handed to Facebook's scheduler, due at ``due``."""
    content = make_content(account=account, publish_at=due, **over)
    post = await adapter.render(content, content.targets[0], account)
    return post, await adapter.publish(post, account)


async def test_hold_pulls_the_scheduled_post_back_and_release_schedules_it_at_its_time(
    adapter: FacebookAdapter, account: Account, page: Page, clock: Callable[[timedelta], None]
) -> None:
    due = datetime.now(UTC) + timedelta(hours=2)
    post, first = await scheduled_post(adapter, account, due, summary="Tạm hoãn lễ khánh thành cầu Đà Rằng.")
    assert await scheduled_ids(adapter, page) == [first.external_id]

    assert await adapter.pull_back(post, first, account)
    assert await scheduled_ids(adapter, page) == [], "no scheduled post left on the platform"
    assert await adapter.find_existing(post, account) is None
    assert await adapter.pull_back(post, first, account), "a crash repeats it: harmless"

    again = await adapter.publish(post, account)  # the release: the dispatcher publishes it again
    assert again.scheduled_natively
    assert again.extra["scheduled_publish_time"] == math.ceil(due.timestamp()), "at its original time"
    assert await scheduled_ids(adapter, page) == [again.external_id]
    found = await adapter.find_existing(post, account)
    assert found is not None and found.external_id == again.external_id

    clock(timedelta(hours=2, minutes=1))
    assert await feed_ids(adapter, page) == [again.external_id], "published once, the new one only"


async def test_a_pulled_back_post_never_goes_when_its_old_time_passes(
    adapter: FacebookAdapter, account: Account, page: Page, clock: Callable[[timedelta], None]
) -> None:
    post, result = await scheduled_post(adapter, account, datetime.now(UTC) + timedelta(hours=2))
    assert await adapter.pull_back(post, result, account)
    clock(timedelta(hours=3))
    assert await feed_ids(adapter, page) == []


async def test_a_post_already_live_is_not_pulled_back(
    adapter: FacebookAdapter, account: Account, page: Page, clock: Callable[[timedelta], None]
) -> None:
    post, result = await scheduled_post(adapter, account, datetime.now(UTC) + timedelta(hours=2))
    clock(timedelta(hours=2, minutes=1))
    assert not await adapter.pull_back(post, result, account)
    assert await feed_ids(adapter, page) == [result.external_id], "a live post is never deleted by a hold"

"""A hold on a WordPress post dated ahead (``future``): set back to ``draft``, nothing goes live
when its old date passes, and ``publish`` after the release makes it ``future`` again at its date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import httpx
import pytest

from loa.channels.scheduling import whole_second_after
from loa.events import utcnow
from services.sandbox.frame import sandbox
from services.website.adapter import WebsiteAdapter
from tests.channels.website.test_wordpress_mode import adapter, wp_account, wp_url  # noqa: F401
from tests.website_support import article

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> Iterator[None]:
    before = sandbox.clock_offset
    yield
    sandbox.clock_offset = before


async def public_slugs(wp_url: str) -> list[str]:  # noqa: F811 - what an anonymous reader sees
    async with httpx.AsyncClient() as client:
        return [p["slug"] for p in (await client.get(f"{wp_url}/wp-json/wp/v2/posts")).json()]


def pull_back_calls() -> list[dict[str, object]]:
    return [r.data for r in sandbox.list("wordpress", "update") if r.data.get("status") == "draft"]


async def test_hold_sets_the_post_to_draft_and_release_dates_it_again(
    adapter: WebsiteAdapter,  # noqa: F811
    wp_url: str,  # noqa: F811
    clock: None,
) -> None:
    account = wp_account()
    due = utcnow() + timedelta(hours=2)
    content = article("01JD5Z8Q4M9R3T7V2X6YWPR0H1", account="wp", publish_at=due)
    post = await adapter.render(content, content.targets[0], account)
    first = await adapter.publish(post, account)
    assert first.extra["status"] == "future"

    assert await adapter.pull_back(post, first, account)
    assert len(pull_back_calls()) == 1
    assert await adapter.find_existing(post, account) is None, "a pulled-back draft is not published"
    assert await adapter.pull_back(post, first, account), "a crash repeats it: harmless"
    assert len(pull_back_calls()) == 1, "a draft already: nothing sent again"
    sandbox.clock_offset += timedelta(hours=3)
    assert await public_slugs(wp_url) == [], "its old date passed: nothing went live"
    sandbox.clock_offset -= timedelta(hours=3)

    again = await adapter.publish(post, account)  # the release
    assert again.external_id == first.external_id and again.scheduled_natively
    assert again.extra["status"] == "future"
    item = await adapter.wordpress._call(
        account, "GET", f"/posts/{first.external_id}", "read", params={"context": "edit"}
    )
    at = whole_second_after(due).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert item["date_gmt"] == at, "at its original date"
    sandbox.clock_offset += timedelta(hours=2, minutes=1)
    assert len(await public_slugs(wp_url)) == 1

"""The Facebook reader against the Graph emulator: insights and counts, limits, a post that is gone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.channels import Account, PermanentError, TransientError
from loa.events import Metric
from services.facebook.engagement import SLOW_DOWN_AT, FacebookEngagement, slow_down
from services.facebook.settings import FacebookSettings
from services.sandbox import citizen_comments
from services.sandbox import engagement as simulation
from services.sandbox.facebook import Page
from services.sandbox.frame import sandbox as sandbox_state

pytestmark = pytest.mark.unit

MESSAGE = "Đà Nẵng công bố lịch tiếp công dân tháng 12/2026 của Chủ tịch UBND thành phố."


@pytest.fixture
def reader(graph_url: str) -> Iterator[FacebookEngagement]:
    sandbox_state.reset()
    made = FacebookEngagement(FacebookSettings(mode="development", facebook_graph_url=graph_url))
    yield made
    made.close()


def publish(graph_url: str, page: Page) -> str:
    answer = httpx.post(
        f"{graph_url}/v24.0/{page.id}/feed",
        data={"message": MESSAGE},
        headers={"Authorization": f"OAuth {page.token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def test_figures_grow_with_the_post_age_and_the_same_seed_gives_the_same_figures(
    reader: FacebookEngagement,
    graph_url: str,
    page: Page,
    account: Account,
    clock: Callable[[timedelta], None],
) -> None:
    post_id = publish(graph_url, page)
    clock(timedelta(minutes=10))
    early = await reader.read(account, post_id)
    assert set(early.metrics) == {
        Metric.IMPRESSIONS,
        Metric.REACH,
        Metric.REACTIONS,
        Metric.COMMENTS,
        Metric.SHARES,
    }
    clock(timedelta(hours=24))
    later = await reader.read(account, post_id)
    assert later.metrics[Metric.IMPRESSIONS] > early.metrics[Metric.IMPRESSIONS] > 0
    assert all(later.metrics[m] >= early.metrics[m] for m in early.metrics)
    assert later.metrics[Metric.REACH] <= later.metrics[Metric.IMPRESSIONS] * 1.5
    assert (await reader.read(account, post_id)).metrics == later.metrics  # deterministic
    simulation.simulation.seed = 99
    assert (await reader.read(account, post_id)).metrics != later.metrics


async def test_a_rate_limit_error_carries_the_reset_and_a_deleted_post_is_gone(
    reader: FacebookEngagement, graph_url: str, page: Page, account: Account
) -> None:
    post_id = publish(graph_url, page)
    sandbox_state.plan_preset("facebook", "rate_limit", count=1, reset_after_s=600)
    with pytest.raises(TransientError) as limited:
        await reader.read(account, post_id)
    assert limited.value.retry_at is not None and limited.value.retry_at > datetime.now(UTC)
    deleted = httpx.delete(f"{graph_url}/v24.0/{post_id}", headers={"Authorization": f"OAuth {page.token}"})
    assert deleted.status_code == 200, deleted.text
    with pytest.raises(PermanentError, match="does not exist"):
        await reader.read(account, post_id)


def test_usage_headers_past_the_threshold_slow_the_account_down() -> None:
    quiet = {"X-App-Usage": json.dumps({"call_count": 10, "total_time": 5, "total_cputime": 3})}
    busy = {
        "X-Business-Use-Case-Usage": json.dumps(
            {"123": [{"type": "pages", "call_count": SLOW_DOWN_AT + 1, "estimated_time_to_regain_access": 0}]}
        )
    }
    assert slow_down(quiet) is None
    until = slow_down(quiet, busy)
    assert until is not None and until > datetime.now(UTC) + timedelta(minutes=5)
    regain = {"X-Business-Use-Case-Usage": json.dumps({"123": [{"estimated_time_to_regain_access": 30}]})}
    later = slow_down(regain)
    assert later is not None and later > datetime.now(UTC) + timedelta(minutes=29)


async def test_citizens_comments_match_the_count_and_the_misinformation_burst_comes_an_hour_later(
    reader: FacebookEngagement,
    graph_url: str,
    page: Page,
    account: Account,
    clock: Callable[[timedelta], None],
) -> None:
    post_id = publish(graph_url, page)
    simulation.play("misinformation", {"after_s": 3600, "count": 20, "spread_s": 600})
    clock(timedelta(minutes=50))
    calls = len(page.calls)
    before = await reader.read_comments(account, post_id)
    assert len(page.calls) == calls + 1  # the comments edge alone, on the comments' own schedule
    counted = (await reader.read(account, post_id)).metrics[Metric.COMMENTS]
    assert len(page.calls) == calls + 3  # the figures: insights and the counts, no comments call
    assert len(before.comments) == counted > 0  # Graph's count is the list's
    assert not any("tin giả" in c.text.lower() or "lừa đảo" in c.text for c in before.comments)
    clock(timedelta(minutes=30))
    after = await reader.read_comments(account, post_id)
    burst = [c for c in after.comments if c.text in citizen_comments.FALSE_CLAIMS]
    assert len(burst) == 20 and (await reader.read(account, post_id)).metrics[Metric.COMMENTS] == len(
        after.comments
    )
    assert after.comments[0].created_at >= after.comments[-1].created_at  # newest first, as asked
    assert {c.external_id for c in before.comments} <= {c.external_id for c in after.comments}  # stable
    assert all(c.external_id.startswith(post_id.partition("_")[2] + "_") for c in after.comments)

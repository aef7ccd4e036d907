"""The X reader against the emulator: public and non-public metrics, x-rate-limit headers, a deleted post."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.channels import Account, PermanentError, Secret, TransientError
from loa.events import Metric
from services.sandbox import x as emulator
from services.sandbox.client import SandboxClient
from services.sandbox.frame import sandbox as sandbox_state
from services.x.client import XClient
from services.x.engagement import XEngagement
from services.x.settings import XSettings

pytestmark = pytest.mark.unit

TEXT = "Thông báo: Sở Y tế Đà Nẵng tổ chức tiêm chủng mở rộng từ ngày 05/12/2026. #ĐàNẵng"


@pytest.fixture
def account(sandbox: SandboxClient) -> Account:
    emulator.state.__init__()  # type: ignore[misc]
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    emulator.state.users[keys["access_token"]] = emulator.XUser(id="4242", username="sotttt", **keys)
    return Account(channel="x", name="so-tttt", credentials={k: Secret(v) for k, v in keys.items()})


async def test_metrics_with_impressions_and_a_spent_window_waits_for_its_reset(
    sandbox_url: str, account: Account
) -> None:
    settings = XSettings(mode="development", x_api_url=f"{sandbox_url}/x")
    post_id = XClient(account, settings.x_api_url).create(TEXT, None, [])
    sandbox_state.clock_offset += timedelta(hours=3)
    reader = XEngagement(settings)
    seen = await reader.read(account, post_id)
    assert seen.metrics[Metric.IMPRESSIONS] > seen.metrics[Metric.REACTIONS] > 0
    assert {Metric.COMMENTS, Metric.SHARES, Metric.QUOTES, Metric.BOOKMARKS} <= set(seen.metrics)

    httpx.post(f"{sandbox_url}/x/_limits", params={"limit": 1, "seconds": 900}).raise_for_status()
    emulator.state.windows.clear()
    await reader.read(account, post_id)  # the window's one call: x-rate-limit-remaining is now 0
    calls = sandbox_state.stats()["x"]["requests"]
    with pytest.raises(TransientError) as limited:
        await reader.read(account, post_id)
    assert limited.value.retry_at is not None and limited.value.retry_at > datetime.now(UTC) + timedelta(
        minutes=10
    )
    assert sandbox_state.stats()["x"]["requests"] == calls  # the header was honoured: no call made
    reader.close()


async def test_a_deleted_post_is_gone(sandbox_url: str, account: Account) -> None:
    settings = XSettings(mode="development", x_api_url=f"{sandbox_url}/x")
    client = XClient(account, settings.x_api_url)
    post_id = client.create(TEXT, None, [])
    client.delete(post_id)
    with pytest.raises(PermanentError, match="no longer there"):
        await XEngagement(settings).read(account, post_id)


async def test_replies_come_from_recent_search_of_the_conversation(
    sandbox_url: str, account: Account
) -> None:
    """``conversation_id:<id>`` (docs.x.com/x-api/fundamentals/conversation-id) lists the replies."""
    settings = XSettings(mode="development", x_api_url=f"{sandbox_url}/x")
    post_id = XClient(account, settings.x_api_url).create(TEXT, None, [])
    httpx.post(
        f"{sandbox_url}/_sandbox/engagement/scenarios/misinformation", json={"count": 15}
    ).raise_for_status()
    sandbox_state.clock_offset += timedelta(hours=2)
    reader = XEngagement(settings)
    seen = await reader.read_comments(account, post_id)
    assert len(seen.comments) == (await reader.read(account, post_id)).metrics[Metric.COMMENTS] >= 15
    assert (
        sum(
            "tin giả" in c.text.lower() or "lừa đảo" in c.text or "sai sự thật" in c.text
            for c in seen.comments
        )
        >= 15
    )
    reader.close()

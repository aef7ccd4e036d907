"""The YouTube reader against the emulator over TLS: statistics, the quota share, quotaExceeded."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from loa.channels import PermanentError, TransientError
from loa.events import Metric
from services.sandbox import citizen_comments, engagement
from services.sandbox.frame import sandbox
from services.sandbox.youtube_state import Video, channel_of, state
from services.youtube.engagement import YouTubeEngagement
from services.youtube.quota import next_reset
from services.youtube.settings import YouTubeSettings
from tests.channels.youtube.support import TlsSandbox, account

pytestmark = pytest.mark.unit


@pytest.fixture
def yt(yt_sandbox: TlsSandbox) -> YouTubeSettings:
    sandbox.reset()
    return YouTubeSettings(
        mode="development",
        youtube_api_url=yt_sandbox.url,
        youtube_token_url=f"{yt_sandbox.url}/token",
        youtube_ca_certs=yt_sandbox.tls.ca_pem,
    )


@pytest.fixture
def video_id() -> str:
    """A public video of the account's channel, uploaded a day ago (sandbox clock)."""
    made = Video(
        id="dQw4w9WgXcQ",
        channel_id=channel_of(account().secret("refresh_token")),
        snippet={"title": "Họp báo thường kỳ tháng 12: Đà Nẵng", "description": "", "categoryId": "25"},
        status={"privacyStatus": "public", "uploadStatus": "processed"},
        size=1024,
        sha256=hashlib.sha256(b"video").hexdigest(),
        uploaded_at=sandbox.now() - timedelta(days=1),
    )
    state().videos[made.id] = made
    return made.id


async def test_statistics_and_comments_are_read_one_unit_a_call_within_the_listener_share(
    yt: YouTubeSettings, video_id: str
) -> None:
    # videos.list and commentThreads.list, each on its own schedule, 1 unit each from one count
    reader = YouTubeEngagement(yt, daily_units=4)
    seen = await reader.read(account(), video_id)
    assert set(seen.metrics) == {Metric.VIEWS, Metric.REACTIONS, Metric.COMMENTS} and not seen.comments
    assert seen.metrics[Metric.VIEWS] > seen.metrics[Metric.REACTIONS] > 0
    listed = await reader.read_comments(account(), video_id)
    assert listed.comments and not listed.metrics
    await reader.read_comments(account(), video_id)
    await reader.read(account(), video_id)
    calls = sandbox.stats()["youtube"]["requests"]
    with pytest.raises(TransientError, match="quota") as spent:  # the fifth unit is not the listener's
        await reader.read_comments(account(), video_id)
    assert spent.value.retry_at == next_reset(datetime.now(UTC))  # midnight Pacific Time
    assert sandbox.stats()["youtube"]["requests"] == calls  # refused before the call


async def test_quota_exceeded_from_the_platform_waits_for_the_reset_and_a_missing_video_is_gone(
    yt: YouTubeSettings, video_id: str
) -> None:
    reader = YouTubeEngagement(yt, daily_units=1000)
    state().limits["default"] = 0
    with pytest.raises(TransientError) as exceeded:
        await reader.read(account(), video_id)
    assert exceeded.value.code == "quotaExceeded" and exceeded.value.retry_at is not None
    with pytest.raises(TransientError):  # believed until the reset: no second call
        await reader.read(account(), video_id)
    other = YouTubeEngagement(yt, daily_units=1000)
    state().limits["default"] = 10_000
    with pytest.raises(PermanentError, match="no longer there"):
        await other.read(account(), "khongcovideo")


async def test_comment_threads_list_the_citizens_comments_and_the_misinformation_burst(
    yt: YouTubeSettings, video_id: str
) -> None:
    """commentThreads.list?videoId= (newest first), as many as the video's ``commentCount``."""
    reader = YouTubeEngagement(yt, daily_units=1000)
    calm = await reader.read_comments(account(), video_id)
    assert len(calm.comments) == (await reader.read(account(), video_id)).metrics[Metric.COMMENTS] > 0
    assert not any(c.text in citizen_comments.FALSE_CLAIMS for c in calm.comments)
    engagement.play("misinformation", {"after_s": 3600, "count": 12})
    stirred = await reader.read_comments(account(), video_id)  # the video is a day old: the burst is out
    assert sum(c.text in citizen_comments.FALSE_CLAIMS for c in stirred.comments) == 12
    assert len(stirred.comments) == (await reader.read(account(), video_id)).metrics[Metric.COMMENTS]
    assert all(c.author in citizen_comments.AUTHORS for c in stirred.comments)

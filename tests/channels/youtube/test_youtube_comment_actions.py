"""Replying to and holding for review a citizen's comment on YouTube, against the emulator over TLS."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest

from loa.channels import ChannelError
from services.sandbox import citizen_comments
from services.sandbox.frame import sandbox
from services.sandbox.youtube_comments import held, replies_of
from services.sandbox.youtube_state import Video, channel_of, state
from services.youtube.adapter import YouTubeAdapter
from services.youtube.engagement import YouTubeEngagement
from services.youtube.settings import YouTubeSettings
from tests.channels.youtube.support import RecordingContext, account

pytestmark = pytest.mark.integration

REPLY = "Cảm ơn anh Đặng Quốc Bảo, lịch họp báo tháng 12 đăng tại trang của Sở TT&TT Đà Nẵng."


def _video(channel: str) -> str:
    made = Video(
        id=f"v{hashlib.sha256(channel.encode()).hexdigest()[:10]}",
        channel_id=channel,
        snippet={"title": "Họp báo thường kỳ tháng 12: Đà Nẵng", "description": "", "categoryId": "25"},
        status={"privacyStatus": "public", "uploadStatus": "processed"},
        size=1024,
        sha256=hashlib.sha256(b"video").hexdigest(),
        uploaded_at=sandbox.now() - timedelta(days=1),
    )
    state().videos[made.id] = made
    return made.id


def _first_comment(video_id: str) -> str:
    video = state().videos[video_id]
    found = citizen_comments.comments("youtube", video.id, video.uploaded_at)
    assert found, "the simulation gave the video no comment"
    return f"Ug{found[0].id}"


@pytest.fixture
def adapter(make_adapter: Callable[..., tuple[YouTubeAdapter, RecordingContext]]) -> YouTubeAdapter:
    return make_adapter()[0]


async def test_a_reply_is_made_as_the_channel_and_found_again(adapter: YouTubeAdapter) -> None:
    mine = account()
    channel = channel_of(mine.secret("refresh_token"))
    comment = _first_comment(_video(channel))
    assert await adapter.find_comment_reply(account(channel_id=channel), comment, REPLY) is None

    reply_id = await adapter.reply_to_comment(mine, comment, REPLY)
    [made] = replies_of(comment)
    assert made["id"] == reply_id and made["snippet"]["textOriginal"] == REPLY
    assert made["snippet"]["authorChannelId"]["value"] == channel
    assert await adapter.find_comment_reply(account(channel_id=channel), comment, REPLY) == reply_id
    assert await adapter.find_comment_reply(account(channel_id="UCkhac"), comment, REPLY) is None


async def test_hold_for_review_takes_the_comment_out_of_the_listing(
    adapter: YouTubeAdapter, yt_settings: YouTubeSettings
) -> None:
    mine = account()
    video_id = _video(channel_of(mine.secret("refresh_token")))
    comment = _first_comment(video_id)
    await adapter.moderate_comment(mine, comment)
    await adapter.moderate_comment(mine, comment)  # again: nothing more changes
    assert held() == {comment}
    # commentThreads.list, as the listener reads comments
    read = await YouTubeEngagement(yt_settings).read_comments(mine, video_id)
    assert read.comments and comment not in {c.external_id for c in read.comments}


async def test_an_unknown_comment_and_another_channels_video_are_refused(adapter: YouTubeAdapter) -> None:
    mine = account()
    _video(channel_of(mine.secret("refresh_token")))
    with pytest.raises(ChannelError, match="commentNotFound"):
        await adapter.moderate_comment(mine, "Ugkhongtontai")
    theirs = _first_comment(_video("UCkenh-khac-0001"))
    with pytest.raises(ChannelError, match="forbidden"):
        await adapter.moderate_comment(mine, theirs)
    assert held() == set()

"""X, end to end: Kafka → the X publisher (tweepy) → the X API emulator; threads, no edit, 429 bursts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox import x as emulator
from services.sandbox.client import SandboxClient
from services.x.adapter import XAdapter
from services.x.counting import weighted_length
from services.x.settings import XSettings
from tests.e2e.conftest import StartRun
from tests.e2e.support import PUBLISHED_PATH, ChannelRun, S, article, fast_settings, jpeg, put_media

pytestmark = pytest.mark.e2e
ACCOUNT = "ubnd-ha-noi"
USER_ID = "7301"
LONG = " ".join(
    [
        "Sáng 26/11, UBND thành phố Hà Nội khai trương Trung tâm phục vụ hành chính công một cấp.",
        "Người dân, doanh nghiệp được giải quyết hồ sơ không phụ thuộc địa giới hành chính, tại bất kỳ "
        "điểm tiếp nhận nào của thành phố.",
        "Trung tâm tiếp nhận 1.864 thủ tục hành chính thuộc thẩm quyền của thành phố, quận, huyện và xã, "
        "phường; thời gian chờ trung bình giảm từ 45 phút xuống dưới 15 phút.",
        "Đường dây nóng hỗ trợ người dân: 1900 1234, hoạt động cả thứ Bảy.",
    ]
)


@pytest.fixture
async def run(
    settings: LoaSettings, tmp_path, sandbox: SandboxClient, sandbox_url: str, start_run: StartRun
) -> ChannelRun:
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    httpx.post(
        f"{sandbox_url}/x/_accounts", json={"id": USER_ID, "username": "ubndhanoi", **keys}
    ).raise_for_status()
    x = fast_settings(settings, XSettings, tmp_path, x_api_url=f"{sandbox_url}/x")
    return await start_run(ChannelRun(XAdapter, x, {ACCOUNT: (keys, {})}))


def thread_of(tweet_id: str) -> list[dict[str, Any]]:
    """The tweet and its chain of replies, in order."""
    out = [emulator.state.tweets[tweet_id]]
    while True:
        nxt = [t for t in emulator.state.tweets.values() if t["in_reply_to_tweet_id"] == out[-1]["id"]]
        if not nxt:
            return out
        out.append(nxt[0])


async def test_sample_article_becomes_a_numbered_thread_cannot_be_edited_and_is_retracted_whole(
    run: ChannelRun, media: MediaStore, settings: LoaSettings
) -> None:
    image = put_media(media, jpeg(), "image/jpeg", alt="Trụ sở trung tâm")
    c = article("x", ACCOUNT, [image], summary=LONG)
    await run.approve(c)

    last = await run.until_state(c.id, ACCOUNT, S.PUBLISHED)
    assert run.states(c.id, ACCOUNT) == PUBLISHED_PATH
    thread = thread_of(last.external_id)
    assert len(thread) >= 2
    assert [t["text"].split()[-1] for t in thread] == [
        f"({i}/{len(thread)})" for i in range(1, len(thread) + 1)
    ]
    assert all(weighted_length(t["text"]) <= 280 for t in thread)
    assert thread[0]["media_ids"]  # the image went with the first post
    assert canonical_url(c, str(settings.website_base_url)) in " ".join(t["text"] for t in thread)
    assert len(emulator.state.tweets) == len(thread)

    await run.update(
        article("x", ACCOUNT, [image], cid=c.id, version=2, summary="Đính chính: số 258 Võ Chí Công.")
    )
    edited = await run.until_version(c.id, ACCOUNT, 2, S.PUBLISHED)
    assert edited.note is not None
    assert "cannot edit" in edited.note
    assert edited.external_id == last.external_id
    assert len(emulator.state.tweets) == len(thread)  # nothing new posted

    await run.retract(c.id)
    await run.until_state(c.id, ACCOUNT, S.RETRACTED)
    assert emulator.state.tweets == {}  # every part of the thread is gone


async def test_a_429_burst_delays_the_posts_and_each_goes_out_once(run: ChannelRun, sandbox_url: str) -> None:
    httpx.post(f"{sandbox_url}/x/_limits", params={"limit": 3, "seconds": 3}).raise_for_status()
    contents = [
        article(
            "x",
            ACCOUNT,
            [],
            title=f"Thông báo số {i}: lịch tiếp công dân tháng 12",
            summary=f"Đợt {i}: tiếp công dân tại Đà Nẵng.",
        )
        for i in range(7)
    ]
    await run.approve(*contents)

    for c in contents:
        await run.until_state(c.id, ACCOUNT, S.PUBLISHED, timeout=30)
    delayed = [c for c in contents if S.RETRYING in run.states(c.id, ACCOUNT)]
    assert delayed, "the window allows 3 posts per 3 s: some of 7 must have waited for the reset"
    for c in delayed:
        retry = next(e for e in run.events(c.id, ACCOUNT) if e.state is S.RETRYING)
        assert retry.error is not None
        assert retry.error.code == "429"
    texts = [t["text"] for t in emulator.state.tweets.values()]
    for c in contents:
        assert sum(c.summary in text for text in texts) == 1, f"{c.id}: {texts}"

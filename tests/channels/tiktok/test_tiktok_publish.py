"""The TikTok adapter against the emulator: a video by chunks, status polling, a resumed upload,
token refresh with rotation, the creator's privacy options, a failed processing, no delete.

Unit tests: the sandbox runs in-process and the video is in an in-memory media store (our own
port); the contract suite (``test_tiktok_contract.py``) runs the same adapter on real MinIO.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.channels import (
    Account,
    AuthError,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
    UnsupportedError,
)
from loa.events import Content, MediaRef, Target
from loa.testing import FakeContext
from services.sandbox import tiktok as emulator
from services.sandbox.client import SandboxClient
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.chunks import CHUNK_MIN
from services.tiktok.oauth import ACCESS, REFRESH
from tests.channels.tiktok.support import ACCOUNT, USERNAME, MemoryMedia, register_creator, video_bytes

pytestmark = pytest.mark.unit

Make = Callable[..., tuple[TikTokAdapter, FakeContext]]
UPLOAD_PATH = "/tiktok/upload/video/"
STATUS_PATH = "/tiktok/v2/post/publish/status/fetch/"


def content(video: MediaRef | None, **target: object) -> Content:
    return Content(
        id="ubnd-dn-2025-12-04-0007",
        version=1,
        title="Đà Nẵng thông xe cầu Nguyễn Tri Phương mở rộng",
        summary="Sáng 4/12, UBND TP Đà Nẵng thông xe cầu sau 18 tháng thi công; người dân đi lại dễ hơn.",
        body="<p>Cầu dài 300 m, rộng 30 m.</p>",
        tags=["Đà Nẵng", "Giao thông"],
        media=[video] if video else [],
        unit="Văn phòng UBND thành phố",
        approved_by="Lê Thị Đào",
        approved_at=datetime(2025, 12, 4, 7, 0, tzinfo=UTC),
        targets=[Target(channel="tiktok", account=ACCOUNT, **target)],  # type: ignore[arg-type]
    )


async def published(adapter: TikTokAdapter, account: Account, c: Content) -> tuple[Post, PublishResult]:
    post = await adapter.render(c, c.targets[0], account)
    return post, await adapter.publish(post, account)


async def three_chunks(
    make_adapter: Make, account: Account, memory_media: MemoryMedia
) -> tuple[TikTokAdapter, FakeContext, Post, bytes]:
    """An adapter sending 5 MiB chunks, and the post of a three-chunk video (and its bytes)."""
    data = video_bytes(3 * CHUNK_MIN)
    adapter, context = make_adapter(tiktok_chunk_bytes=CHUNK_MIN)
    c = content(memory_media.put(data))
    return adapter, context, await adapter.render(c, c.targets[0], account), data


def chunk_records(sandbox: SandboxClient) -> list[str]:
    return [r["data"]["range"] for r in sandbox.records("tiktok", "chunk")]


async def test_a_video_goes_out_in_chunks_streamed_by_range_after_status_polls(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    data = video_bytes(3 * CHUNK_MIN + 12_345)  # 3 chunks, the last one holding the trailing bytes
    video = memory_media.put(data)
    sandbox.processing("tiktok", 2)  # two "still processing" answers before PUBLISH_COMPLETE
    adapter, context = make_adapter(tiktok_chunk_bytes=CHUNK_MIN)

    post, result = await published(adapter, account, content(video))

    size = len(data)
    assert chunk_records(sandbox) == [
        f"0-{CHUNK_MIN - 1}/{size}",
        f"{CHUNK_MIN}-{2 * CHUNK_MIN - 1}/{size}",
        f"{2 * CHUNK_MIN}-{size - 1}/{size}",
    ]
    assert memory_media.opened == [
        (0, CHUNK_MIN),
        (CHUNK_MIN, CHUNK_MIN),
        (2 * CHUNK_MIN, CHUNK_MIN + 12_345),
    ]
    [live] = emulator.state.posts.values()
    assert live["sha256"] == hashlib.sha256(data).hexdigest()  # every byte, in order
    assert live["title"] == post.texts[0]
    assert live["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert result.external_id == live["id"]
    assert result.url == f"https://www.tiktok.com/@{USERNAME}/video/{live['id']}"
    assert result.extra["publish_id"] == post.progress["publish_id"]
    assert [p.get("chunks_sent") for p in context.saved] == [0, 1, 2, 3]  # saved before the first byte
    assert emulator.state.publishes[result.extra["publish_id"]].checks_left == 0
    assert len(sandbox.records("tiktok", "init")) == 1


async def test_a_small_video_goes_whole_in_one_chunk(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    video = memory_media.put(video_bytes(700_000))
    adapter, _ = make_adapter()
    await published(adapter, account, content(video))
    [init] = sandbox.records("tiktok", "init")
    assert init["data"]["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 700_000,
        "chunk_size": 700_000,
        "total_chunk_count": 1,
    }
    assert chunk_records(sandbox) == ["0-699999/700000"]


async def test_polling_is_bounded_and_a_retry_polls_the_same_post_again(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    video = memory_media.put(video_bytes(900_000))
    sandbox.processing("tiktok", 100)
    adapter, _ = make_adapter(tiktok_status_checks=3)
    c = content(video)
    post = await adapter.render(c, c.targets[0], account)

    with pytest.raises(TransientError) as still:
        await adapter.publish(post, account)
    assert still.value.code == "processing"
    assert "still processing" in str(still.value)
    publish_id = post.progress["publish_id"]
    assert 100 - emulator.state.publishes[publish_id].checks_left == 3  # three status checks, no more

    emulator.state.publishes[publish_id].checks_left = 1
    result = await adapter.publish(post, account)
    assert result.extra["publish_id"] == publish_id
    assert len(sandbox.records("tiktok", "init")) == 1  # the retry opened no second post
    assert len(emulator.state.posts) == 1


async def test_an_upload_cut_short_resumes_at_the_next_chunk(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    adapter, _, post, data = await three_chunks(make_adapter, account, memory_media)
    sandbox.fault("tiktok", "server_error", path=UPLOAD_PATH)  # the first PUT fails...

    with pytest.raises(TransientError):
        await adapter.publish(post, account)
    assert post.progress["chunks_sent"] == 0
    assert await adapter.find_existing(post, account) is None  # not whole: TikTok publishes nothing

    result = await adapter.publish(post, account)  # ...the retry sends from chunk 1, on the same post
    assert len(sandbox.records("tiktok", "init")) == 1
    assert len(chunk_records(sandbox)) == 3
    assert emulator.state.posts[result.external_id]["sha256"] == hashlib.sha256(data).hexdigest()


async def test_a_chunk_taken_by_tiktok_whose_answer_was_lost_is_not_sent_again(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    adapter, context, post, data = await three_chunks(make_adapter, account, memory_media)
    # TikTok takes the first chunk, then its answer is lost (a 503 replaces it).
    sandbox.fault("tiktok", status=503, body={"error": "gateway"}, path=UPLOAD_PATH, after=True)

    with pytest.raises(TransientError):
        await adapter.publish(post, account)
    assert post.progress["chunks_sent"] == 0 and len(chunk_records(sandbox)) == 1

    result = await adapter.publish(post, account)  # status: uploaded_bytes = one chunk; goes on from 2
    assert [p["chunks_sent"] for p in context.saved] == [0, 1, 2, 3]  # 1: counted from TikTok
    assert len(sandbox.records("tiktok", "init")) == 1
    assert len(chunk_records(sandbox)) == 3
    assert emulator.state.posts[result.external_id]["sha256"] == hashlib.sha256(data).hexdigest()


async def test_an_expired_access_token_is_refreshed_and_the_rotated_pair_stored_first(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient, sandbox_url: str
) -> None:
    [open_id] = emulator.state.creators
    httpx.post(f"{sandbox_url}/tiktok/_creators/{open_id}/expire").raise_for_status()
    video = memory_media.put(video_bytes(600_000))
    adapter, context = make_adapter()

    await published(adapter, account, content(video))

    assert context.saves == 1 and emulator.state.refreshes == 1
    stored = await context.reload_account(account)
    assert stored.secret(REFRESH) != account.secret(REFRESH)  # TikTok rotated it; Loa kept the new one
    assert stored.secret(ACCESS) != account.secret(ACCESS)
    assert account.secret(REFRESH) not in emulator.state.refresh  # the old one is dead
    assert stored.secret(REFRESH) in emulator.state.refresh
    expires = datetime.fromisoformat(stored.secret("access_expires_at"))
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)  # from expires_in

    # A second post with the account as first read (a stale copy): no second refresh.
    second = content(memory_media.put(video_bytes(610_000))).model_copy(update={"id": "ubnd-dn-0008"})
    await published(adapter, account, second)
    assert emulator.state.refreshes == 1


async def test_a_revoked_grant_needs_a_person(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox_url: str
) -> None:
    [open_id] = emulator.state.creators
    httpx.post(f"{sandbox_url}/tiktok/_creators/{open_id}/revoke").raise_for_status()
    adapter, _ = make_adapter()
    with pytest.raises(AuthError) as refused:
        await published(adapter, account, content(memory_media.put(video_bytes(600_000))))
    assert "connect the account again" in str(refused.value)
    assert refused.value.code == "invalid_grant"


async def test_a_privacy_level_the_creator_may_not_use_is_refused_before_any_post(
    make_adapter: Make, sandbox: SandboxClient, sandbox_url: str, memory_media: MemoryMedia
) -> None:
    account = register_creator(sandbox_url, privacy_level_options=["FOLLOWER_OF_CREATOR", "SELF_ONLY"])
    adapter, _ = make_adapter()
    with pytest.raises(PermanentError) as refused:
        await published(adapter, account, content(memory_media.put(video_bytes(600_000))))
    assert "options.privacy_level" in str(refused.value)
    assert "FOLLOWER_OF_CREATOR, SELF_ONLY" in str(refused.value)
    assert sandbox.records("tiktok", "init") == []


async def test_a_private_post_is_named_by_its_publish_id(
    make_adapter: Make, account: Account, memory_media: MemoryMedia
) -> None:
    adapter, _ = make_adapter()
    c = content(memory_media.put(video_bytes(600_000)), options={"privacy_level": "SELF_ONLY"})
    post, result = await published(adapter, account, c)
    assert result.external_id == post.progress["publish_id"]
    assert result.url is None
    assert result.note is not None and "no public post id" in result.note
    [live] = emulator.state.posts.values()
    assert live["privacy_level"] == "SELF_ONLY"


async def test_a_creator_who_turned_comments_off_keeps_them_off(
    make_adapter: Make, sandbox: SandboxClient, sandbox_url: str, memory_media: MemoryMedia
) -> None:
    account = register_creator(sandbox_url, comment_disabled=True)
    adapter, _ = make_adapter()
    await published(adapter, account, content(memory_media.put(video_bytes(600_000))))
    [live] = emulator.state.posts.values()
    assert live["disable_comment"] is True


async def test_a_video_longer_than_the_creator_may_post_is_refused_naming_it(
    make_adapter: Make, sandbox: SandboxClient, sandbox_url: str, memory_media: MemoryMedia
) -> None:
    account = register_creator(sandbox_url, max_video_post_duration_sec=180)
    adapter, _ = make_adapter()
    with pytest.raises(PermanentError) as refused:
        await published(adapter, account, content(memory_media.put(video_bytes(600_000), duration_s=240.0)))
    assert "media[0]" in str(refused.value) and "180" in str(refused.value)


async def test_a_failed_processing_is_permanent_with_tiktoks_reason_and_forgets_the_post(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    failed = {
        "data": {"status": "FAILED", "fail_reason": "file_format_check_failed", "uploaded_bytes": 600_000},
        "error": {"code": "ok", "message": "", "log_id": "202512040700001"},
    }
    sandbox.fault("tiktok", status=200, body=failed, path=STATUS_PATH)
    adapter, context = make_adapter()
    c = content(memory_media.put(video_bytes(600_000)))
    post = await adapter.render(c, c.targets[0], account)
    with pytest.raises(PermanentError) as refused:
        await adapter.publish(post, account)
    assert refused.value.code == "file_format_check_failed"
    assert post.progress == {} and context.saved[-1] == {}  # a retry by ops opens a new post


async def test_the_daily_cap_waits_an_hour(
    make_adapter: Make, account: Account, memory_media: MemoryMedia
) -> None:
    emulator.state.daily_posts = 0
    adapter, _ = make_adapter()
    before = datetime.now(UTC)
    with pytest.raises(TransientError) as capped:
        await published(adapter, account, content(memory_media.put(video_bytes(600_000))))
    assert capped.value.code == "spam_risk_too_many_posts"
    assert capped.value.retry_at is not None
    assert timedelta(minutes=59) < capped.value.retry_at - before < timedelta(minutes=61)


async def test_after_a_crash_find_existing_asks_tiktok_about_the_saved_post(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox: SandboxClient
) -> None:
    sandbox.processing("tiktok", 100)
    adapter, _ = make_adapter(tiktok_status_checks=1)
    c = content(memory_media.put(video_bytes(600_000)))
    post = await adapter.render(c, c.targets[0], account)
    with pytest.raises(TransientError):
        await adapter.publish(post, account)  # whole, still processing: it may yet go out
    with pytest.raises(TransientError) as open_question:
        await adapter.find_existing(post, account)
    assert "still processing" in str(open_question.value)

    emulator.state.publishes[post.progress["publish_id"]].checks_left = 0
    found = await adapter.find_existing(post, account)
    assert found is not None
    assert found.external_id in emulator.state.posts


async def test_retract_says_tiktok_cannot_delete_and_who_must(make_adapter: Make, account: Account) -> None:
    adapter, _ = make_adapter()
    previous = PublishResult(
        "7443000000000000009", "https://www.tiktok.com/@ubnddanang/video/7443000000000000009"
    )
    with pytest.raises(UnsupportedError) as refused:
        await adapter.retract(previous, account)
    message = str(refused.value)
    assert "cannot delete" in message and "by hand" in message
    assert ACCOUNT in message and previous.url in message  # type: ignore[operator]
    assert refused.value.error_class == "permanent"  # the retraction ends retract_failed, for a person


async def test_a_content_without_a_video_is_refused_naming_the_field(
    make_adapter: Make, account: Account
) -> None:
    adapter, _ = make_adapter()
    c = content(None)
    with pytest.raises(PermanentError) as refused:
        await adapter.render(c, c.targets[0], account)
    assert str(refused.value).startswith("media: the content has no video")


async def test_the_sandbox_reader_page_shows_the_posted_caption(
    make_adapter: Make, account: Account, memory_media: MemoryMedia, sandbox_url: str
) -> None:
    adapter, _ = make_adapter()
    await published(adapter, account, content(memory_media.put(video_bytes(600_000))))
    page = httpx.get(sandbox_url + "/", params={"platform": "tiktok"}).text
    assert "Đà Nẵng thông xe cầu Nguyễn Tri Phương mở rộng" in page
    assert f"@{USERNAME}" in page and "PUBLIC_TO_EVERYONE" in page

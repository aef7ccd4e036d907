"""The X adapter against the X API emulator (tweepy over HTTP) and real MinIO."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from PIL import Image

from loa.channels import (
    Account,
    AuthError,
    DuplicatePostError,
    PermanentError,
    PublishResult,
    Secret,
    TransientError,
)
from loa.events import Content, MediaRef, Target
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.context import FakeContext
from services.sandbox import x as emulator
from services.sandbox.frame import Fault, sandbox
from services.x.adapter import XAdapter
from services.x.client import XClient
from services.x.counting import weighted_length
from services.x.settings import XSettings

pytestmark = pytest.mark.integration

SUMMARY = (
    "Bộ Thông tin và Truyền thông công bố kết quả chuyển đổi số quốc gia năm 2026: "
    "Đà Nẵng dẫn đầu về chính quyền số."
)
LONG_TEXT = " ".join(
    [
        "Sáng 26/11, tại Hà Nội, Bộ Thông tin và Truyền thông tổ chức họp báo thường kỳ tháng 11.",
        "Đại diện Cục Báo chí cho biết các cơ quan báo chí đã phản ánh kịp thời, đầy đủ các sự kiện "
        "chính trị, kinh tế, xã hội quan trọng của đất nước trong tháng qua.",
        "Công tác thông tin về phòng, chống thiên tai được triển khai đồng bộ, góp phần giúp người dân "
        "chủ động ứng phó với bão lũ ở các tỉnh miền Trung.",
        "Bộ đề nghị các đơn vị tiếp tục đẩy mạnh tuyên truyền về chuyển đổi số, bảo đảm an toàn thông tin "
        "và phát triển kinh tế số bền vững trong giai đoạn tới.",
    ]
)


@pytest.fixture
def x_user() -> dict[str, str]:
    emulator.state.__init__()  # type: ignore[misc]
    keys = {
        k: f"{k}-{uuid.uuid4().hex}"
        for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    }
    user = {"id": "4242", "username": "bothongtin", **keys}
    emulator.state.users[keys["access_token"]] = emulator.XUser(**user)
    return user


@pytest.fixture
def account(x_user: dict[str, str]) -> Account:
    creds = {k: Secret(v) for k, v in x_user.items() if k not in {"id", "username"}}
    return Account(channel="x", name="bo-tttt", credentials=creds)


@pytest.fixture
def media_store(settings: LoaSettings) -> MediaStore:
    store = MediaStore(settings)
    store.ensure_buckets()
    return store


@pytest.fixture
def adapter(sandbox_url: str, media_store: MediaStore) -> XAdapter:
    return XAdapter(
        FakeContext(media_store), XSettings(x_api_url=f"{sandbox_url}/x", x_media_chunk_bytes=256 * 1024)
    )


def _content(**changes: Any) -> Content:
    base: dict[str, Any] = {
        "id": f"tb-{uuid.uuid4().hex[:10]}",
        "version": 1,
        "title": "Kết quả chuyển đổi số 2026",
        "summary": SUMMARY,
        "unit": "Vụ Hợp tác quốc tế",
        "approved_by": "Nguyễn Văn Đức",
        "approved_at": datetime.now(UTC),
        "tags": ["chuyển đổi số", "Đà Nẵng"],
        "targets": [Target(channel="x", account="bo-tttt")],
    }
    return Content(**{**base, **changes})


def _records(sandbox_url: str, kind: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{sandbox_url}/_sandbox/records", params={"platform": "x", "kind": kind})
    return [r["data"] for r in answer.json()]


async def test_publishes_summary_link_and_hashtags(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    content = _content()
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    tweets = [t for t in _records(sandbox_url, "tweet") if t["id"] == result.external_id]
    assert len(tweets) == 1
    assert tweets[0]["text"].startswith(SUMMARY)
    assert adapter.context.canonical_url(content) in tweets[0]["text"]
    assert "#chuyểnđổisố" in tweets[0]["text"] and "#ĐàNẵng" in tweets[0]["text"]
    assert result.url == f"https://x.com/i/web/status/{result.external_id}"


async def test_long_vietnamese_text_goes_out_as_a_chained_numbered_thread(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    content = _content(summary=LONG_TEXT)
    post = await adapter.render(content, content.targets[0], account)
    assert len(post.texts) >= 2 and all(weighted_length(t) <= 280 for t in post.texts)
    result = await adapter.publish(post, account)
    ids = result.extra["tweet_ids"]
    tweets = {t["id"]: t for t in _records(sandbox_url, "tweet")}
    assert [tweets[i]["in_reply_to_tweet_id"] for i in ids] == [None, *ids[:-1]]
    assert tweets[ids[-1]]["text"].endswith(f"({len(ids)}/{len(ids)})")

    await adapter.retract(result, account)
    assert {d["id"] for d in _records(sandbox_url, "delete")} == set(ids)
    assert all(i not in emulator.state.tweets for i in ids)


async def test_images_are_uploaded_in_chunks_from_minio(
    adapter: XAdapter, account: Account, media_store: MediaStore, sandbox_url: str
) -> None:
    image = io.BytesIO()
    Image.effect_noise((900, 700), 80).convert("RGB").save(image, "JPEG", quality=95)
    stored = media_store.put_stream(io.BytesIO(image.getvalue()), "image/jpeg")
    ref = MediaRef(
        key=stored.key,
        sha256=stored.sha256,
        content_type="image/jpeg",
        size=stored.size,
        alt="Toàn cảnh hội nghị",
    )
    content = _content(media=[ref])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    uploads = _records(sandbox_url, "media")
    assert [u["sha256"] for u in uploads] == [hashlib.sha256(image.getvalue()).hexdigest()]
    assert emulator.state.tweets[result.external_id]["media_ids"] == [uploads[0]["id"]]
    # the alt text went to POST /2/media/metadata before the post attached the image
    described = _records(sandbox_url, "media_metadata")
    assert described == [{"id": uploads[0]["id"], "alt_text": "Toàn cảnh hội nghị"}]
    assert emulator.state.tweets[result.external_id]["alt_texts"] == ["Toàn cảnh hội nghị"]


async def test_a_duplicate_of_our_own_post_is_found_not_failed(adapter: XAdapter, account: Account) -> None:
    content = _content()
    post = await adapter.render(content, content.targets[0], account)
    first = await adapter.publish(post, account)
    again = await adapter.render(content, content.targets[0], account)
    with pytest.raises(DuplicatePostError):
        await adapter.publish(again, account)
    found = await adapter.find_existing(again, account)
    assert found is not None and found.external_id == first.external_id


async def test_find_existing_of_a_post_never_made_is_none(adapter: XAdapter, account: Account) -> None:
    content = _content()
    post = await adapter.render(content, content.targets[0], account)
    assert await adapter.find_existing(post, account) is None


async def test_rate_limit_waits_for_the_reset_and_then_posts_once(
    adapter: XAdapter, account: Account, sandbox_url: str
) -> None:
    httpx.post(f"{sandbox_url}/x/_limits", params={"limit": 1, "seconds": 2})
    first = _content()
    await adapter.publish(await adapter.render(first, first.targets[0], account), account)
    second = _content(summary="Thông báo thứ hai của Bộ về lịch tiếp công dân tháng 12.")
    post = await adapter.render(second, second.targets[0], account)
    with pytest.raises(TransientError) as raised:
        await adapter.publish(post, account)
    assert raised.value.retry_at is not None
    assert raised.value.retry_at <= datetime.now(UTC) + timedelta(seconds=3)
    await asyncio.sleep(max((raised.value.retry_at - datetime.now(UTC)).total_seconds(), 0) + 1.1)
    await adapter.publish(post, account)
    assert sum(t["text"] == post.texts[0] for t in _records(sandbox_url, "tweet")) == 1


async def test_wrong_keys_are_an_auth_error_that_never_shows_the_secret(
    adapter: XAdapter, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    bad = Account(
        channel="x",
        name="bo-tttt",
        credentials={**account.credentials, "access_token_secret": Secret("sai-bi-mat-123456")},
    )
    content = _content()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as raised:
        await adapter.publish(await adapter.render(content, content.targets[0], bad), bad)
    for secret in (*[bad.secret(k) for k in bad.credentials],):
        assert secret not in str(raised.value)
        assert secret not in (raised.value.excerpt or "")
        assert secret not in repr(bad)


async def test_update_is_unsupported_unless_corrections_are_replies(
    adapter: XAdapter, account: Account
) -> None:
    from loa.channels import UnsupportedError

    content = _content()
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    with pytest.raises(UnsupportedError):
        await adapter.update(post, result, account)
    corrected_account = Account(
        channel="x", name=account.name, credentials=account.credentials, options={"correction_as_reply": True}
    )
    updated = await adapter.update(post, result, corrected_account)
    correction = emulator.state.tweets[updated.extra["tweet_ids"][-1]]
    assert correction["in_reply_to_tweet_id"] == result.external_id
    assert correction["text"].startswith("Đính chính: ")
    assert isinstance(updated, PublishResult)


async def test_an_image_over_5_mb_is_re_encoded_and_the_fitted_one_uploaded(
    adapter: XAdapter, account: Account, media_store: MediaStore, sandbox_url: str
) -> None:
    data = io.BytesIO()
    Image.frombytes("RGB", (2200, 1800), os.urandom(2200 * 1800 * 3)).save(data, "PNG", compress_level=1)
    stored = media_store.put_stream(io.BytesIO(data.getvalue()), "image/png")
    assert stored.size > 5 * 1024 * 1024
    ref = MediaRef(key=stored.key, sha256=stored.sha256, content_type="image/png", size=stored.size)
    content = _content(media=[ref])
    post = await adapter.render(content, content.targets[0], account)
    [fitted] = post.media
    assert fitted.content_type == "image/jpeg" and fitted.size <= 5 * 1024 * 1024
    await adapter.publish(post, account)
    assert _records(sandbox_url, "media")[-1]["sha256"] == fitted.sha256


def _video(media_store: MediaStore) -> MediaRef:
    data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(300 * 1024)
    stored = media_store.put_stream(io.BytesIO(data), "video/mp4")
    return MediaRef(key=stored.key, sha256=stored.sha256, content_type="video/mp4", size=stored.size)


@pytest.mark.parametrize("checks", [0, 1])
async def test_a_video_is_attached_only_once_x_has_processed_it(
    adapter: XAdapter,
    account: Account,
    media_store: MediaStore,
    monkeypatch: pytest.MonkeyPatch,
    checks: int,
) -> None:
    monkeypatch.setitem(sandbox.processing_checks, "x", checks)
    content = _content(media=[_video(media_store)])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    (media_id,) = emulator.state.tweets[result.external_id]["media_ids"]
    media = emulator.state.media[media_id]
    assert media["state"] == "succeeded" and "alt_text" not in media  # alt text: images and GIFs only
    # FINALIZE without processing_info: no STATUS call; else STATUS until it says succeeded.
    assert media.get("polls", 0) == (0 if checks == 0 else checks + 1)


async def test_a_video_x_never_finishes_is_a_transient_error_not_a_hang(
    sandbox_url: str, account: Account, media_store: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sandbox.processing_checks, "x", 1000)
    adapter = XAdapter(FakeContext(media_store), XSettings(x_api_url=f"{sandbox_url}/x", x_status_poll_max=1))
    content = _content(media=[_video(media_store)])
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(TransientError, match="still processing"):
        await adapter.publish(post, account)
    assert emulator.state.tweets == {}


def _upload_whole(client: XClient, data: bytes, media_type: str) -> str:
    """INIT, one APPEND, FINALIZE: an uploaded media id, in one worker-thread call."""
    media_id = client.initialize(len(data), media_type)
    client.append(media_id, 0, data)
    client.finalize(media_id)
    return media_id


async def test_the_emulator_takes_alt_text_for_images_only_up_to_1000_characters(
    adapter: XAdapter, account: Account, media_store: MediaStore
) -> None:
    video_id = await adapter._with(account, partial(_upload_whole, data=b"\0" * 1024, media_type="video/mp4"))
    with pytest.raises(PermanentError, match="400 Invalid Request"):
        await adapter._with(account, partial(XClient.describe, media_id=video_id, alt_text="Đoạn video"))
    image_id = await adapter._with(
        account, partial(_upload_whole, data=b"\xff" * 512, media_type="image/jpeg")
    )
    with pytest.raises(PermanentError, match="400 Invalid Request"):
        await adapter._with(account, partial(XClient.describe, media_id=image_id, alt_text="Đ" * 1001))
    await adapter._with(account, partial(XClient.describe, media_id=image_id, alt_text="Đ" * 1000))
    assert "alt_text" not in emulator.state.media[video_id]
    assert emulator.state.media[image_id]["alt_text"] == "Đ" * 1000


# -- round trips: what a delivery waits for (docs/benchmarks.md, "X: round trips per delivery") -----
LATENCY_MS = 300
"""Added to every X call at the sandbox, as the e2e bench's realistic run gives X."""


def _photos(media_store: MediaStore, count: int) -> list[MediaRef]:
    """``count`` distinct JPEGs, each with its own alt text."""
    refs = []
    for i in range(count):
        out = io.BytesIO()
        Image.new("RGB", (320, 200), (60 * i, 120, 200)).save(out, "JPEG", quality=85)
        stored = media_store.put_stream(io.BytesIO(out.getvalue()), "image/jpeg")
        alt = f"Ảnh {i + 1}: Đoàn công tác làm việc tại Đà Nẵng"
        refs.append(
            MediaRef(
                key=stored.key, sha256=stored.sha256, content_type="image/jpeg", size=stored.size, alt=alt
            )
        )
    return refs


def _uploaded(tweet_id: str) -> list[Any]:
    """The sandbox's FINALIZE records of the post's media, in the post's order."""
    finalized = {r.data["id"]: r for r in sandbox.list("x", "media")}
    return [finalized[m] for m in emulator.state.tweets[tweet_id]["media_ids"]]


async def test_four_photos_upload_at_once_and_the_post_keeps_the_contents_order(
    adapter: XAdapter, account: Account, media_store: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sandbox.latency_ms, "x", LATENCY_MS)
    photos = _photos(media_store, 4)
    content = _content(media=photos)
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    uploads = _uploaded(result.external_id)
    assert [u.data["sha256"] for u in uploads] == [p.sha256 for p in photos]
    assert emulator.state.tweets[result.external_id]["alt_texts"] == [p.alt for p in photos]
    assert post.progress["media_ids"] == [u.data["id"] for u in uploads]
    # One after another, each FINALIZE comes 4 calls (metadata, INIT, APPEND, FINALIZE) after the one
    # before: the four span 12 calls. At once they land together (3 calls: room for a loaded machine).
    finalized = sorted(datetime.fromisoformat(u.at) for u in uploads)
    assert finalized[-1] - finalized[0] < timedelta(milliseconds=3 * LATENCY_MS)


async def test_a_delivery_makes_its_posts_only_and_looks_the_account_up_once_in_doubt(
    adapter: XAdapter, account: Account
) -> None:
    before = sandbox.requests["x"]
    posts = []
    for summary in (SUMMARY, "Đà Nẵng công bố lịch tiếp công dân định kỳ tháng 12 năm 2026."):
        content = _content(summary=summary)
        post = await adapter.render(content, content.targets[0], account)
        result = await adapter.publish(post, account)
        assert result.url == f"https://x.com/i/web/status/{result.external_id}"
        posts.append((post, result))
    assert sandbox.requests["x"] - before == 2  # one POST /2/tweets each: no GET /2/users/me
    for post, result in posts:  # in doubt: the account's id once (GET /2/users/me), its timeline each
        found = await adapter.find_existing(post, account)
        assert found is not None and found.external_id == result.external_id
    assert sandbox.requests["x"] - before == 2 + 1 + 2


async def test_a_failed_upload_stops_the_others_and_the_retry_posts_all_four_once(
    adapter: XAdapter, account: Account, media_store: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sandbox.latency_ms, "x", LATENCY_MS)
    sandbox.plan(Fault("x", 503, {"title": "Service Unavailable", "status": 503}, path="/append"))
    photos = _photos(media_store, 4)
    content = _content(media=photos)
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(TransientError):
        await adapter.publish(post, account)
    calls = sandbox.requests["x"]
    await asyncio.sleep(2 * LATENCY_MS / 1000)
    assert sandbox.requests["x"] == calls  # nothing of the stopped uploads goes on after publish
    assert emulator.state.tweets == {} and "media_ids" not in post.progress
    result = await adapter.publish(post, account)  # the retry: every upload again (ids expire unused)
    assert [u.data["sha256"] for u in _uploaded(result.external_id)] == [p.sha256 for p in photos]
    assert len(emulator.state.tweets) == 1


async def test_uploaded_media_saved_before_a_crash_are_attached_not_uploaded_again(
    adapter: XAdapter, account: Account, media_store: MediaStore
) -> None:
    photos = _photos(media_store, 2)
    content = _content(media=photos)
    post = await adapter.render(content, content.targets[0], account)
    ids = await asyncio.gather(*(adapter._upload(account, p) for p in photos))
    post.progress["media_ids"] = ids  # saved by the attempt that crashed before its post
    uploads = len(sandbox.list("x", "media"))
    result = await adapter.publish(post, account)
    assert len(sandbox.list("x", "media")) == uploads
    assert emulator.state.tweets[result.external_id]["media_ids"] == ids

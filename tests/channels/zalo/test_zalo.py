"""The Zalo OA adapter against the Zalo emulator and real MinIO: articles, tokens, broadcast."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from loa.channels import Account, AuthError, Secret, TransientError
from loa.events import Content, MediaRef, Target
from loa.testing.context import FakeContext
from services.sandbox import zalo as emulator
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings

pytestmark = pytest.mark.integration

ALL_VIETNAMESE = (
    "aàảãáạ ăằẳẵắặ âầẩẫấậ đ eèẻẽéẹ êềểễếệ iìỉĩíị oòỏõóọ ôồổỗốộ ơờởỡớợ uùủũúụ ưừửữứự yỳỷỹýỵ "
    "AÀẢÃÁẠ ĂẰẲẴẮẶ ÂẦẨẪẤẬ Đ EÈẺẼÉẸ ÊỀỂỄẾỆ IÌỈĨÍỊ OÒỎÕÓỌ ÔỒỔỖỐỘ ƠỜỞỠỚỢ UÙỦŨÚỤ ƯỪỬỮỨỰ YỲỶỸÝỴ"
)


@pytest.fixture
def oa(sandbox_url: str) -> dict[str, str]:
    emulator.state.__init__()  # type: ignore[misc]
    app = {"app_id": uuid.uuid4().hex[:12], "secret_key": uuid.uuid4().hex, "oa_id": "bo-tttt-oa"}
    pair = httpx.post(f"{sandbox_url}/zalo/_apps", json=app).json()
    return {**app, **pair}


@pytest.fixture
def account(oa: dict[str, str]) -> Account:
    creds = {k: Secret(oa[k]) for k in ("app_id", "secret_key", "access_token", "refresh_token")}
    return Account(channel="zalo", name="bo-tttt", credentials=creds)


@pytest.fixture
async def adapter(sandbox_url: str, context: FakeContext) -> AsyncIterator[ZaloAdapter]:
    adapter = ZaloAdapter(
        context,
        ZaloSettings(
            zalo_openapi_url=f"{sandbox_url}/zalo/openapi", zalo_oauth_url=f"{sandbox_url}/zalo/oauth"
        ),
    )
    yield adapter
    await adapter.aclose()


def _image(context: FakeContext, color: str) -> MediaRef:
    data = io.BytesIO()
    Image.new("RGB", (640, 360), color).save(data, "JPEG")
    stored = context.media.put_stream(io.BytesIO(data.getvalue()), "image/jpeg")
    return MediaRef(
        key=stored.key,
        sha256=stored.sha256,
        content_type="image/jpeg",
        size=stored.size,
        alt="Quang cảnh hội nghị",
    )


def _content(context: FakeContext, **changes: Any) -> Content:
    cover, inline = _image(context, "darkred"), _image(context, "navy")
    base: dict[str, Any] = {
        "id": f"tb-{uuid.uuid4().hex[:10]}",
        "version": 1,
        "title": "Đồng bộ dữ liệu dân cư phục vụ chuyển đổi số",
        "summary": "Bộ Công an phối hợp các bộ, ngành đẩy mạnh khai thác dữ liệu dân cư.",
        "body": f'<p>Đoạn mở đầu về Đề án 06.</p><p><img src="loa-media:{inline.key}" alt="Ảnh minh họa"></p>'
        "<p>Đoạn kết luận.</p>",
        "unit": "Cục Báo chí",
        "approved_by": "Trần Thị Đào",
        "approved_at": datetime.now(UTC),
        "media": [cover, inline],
        "targets": [Target(channel="zalo", account="bo-tttt")],
    }
    return Content(**{**base, **changes})


def _records(sandbox_url: str, kind: str) -> list[dict[str, Any]]:
    return [
        r["data"]
        for r in httpx.get(
            f"{sandbox_url}/_sandbox/records", params={"platform": "zalo", "kind": kind}
        ).json()
    ]


async def test_article_with_cover_and_body_images_then_update_then_retract(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str
) -> None:
    content = _content(context)
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    article = emulator.state.articles[result.external_id]
    assert article["title"] == content.title
    assert article["author"] == "Cục Báo chí"
    assert article["cover"]["photo_url"].endswith(f"/media/{content.media[0].sha256}")
    kinds = [item["type"] for item in article["body"]]
    assert kinds == ["text", "image", "text", "text"]
    assert article["body"][1]["caption"] == "Ảnh minh họa"
    assert article["body"][-1]["content"] == f"Nguồn: {context.canonical_url(content)}"
    # the cover image is really public in the website bucket
    public = context.media.client.stat_object(
        context.media.website_bucket, f"media/{content.media[0].sha256}"
    )
    assert public.size == content.media[0].size

    updated = _content(context, id=content.id, version=2, title="Đính chính: đồng bộ dữ liệu dân cư")
    new_post = await adapter.render(updated, updated.targets[0], account)
    await adapter.update(new_post, result, account)
    assert emulator.state.articles[result.external_id]["title"] == "Đính chính: đồng bộ dữ liệu dân cư"

    await adapter.retract(result, account)
    assert result.external_id not in emulator.state.articles
    await adapter.retract(result, account)  # retracting twice is harmless


async def test_an_embargoed_photo_goes_public_with_its_article_not_at_intake(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    """Render runs at intake, maybe days before ``publish_at``: it names the photo's public URL but
    copies nothing; the copy is made when the article is sent."""
    content = _content(context, publish_at=datetime.now(UTC) + timedelta(days=2))
    post = await adapter.render(content, content.targets[0], account)
    assert post.payload["article"]["cover"]["photo_url"].endswith(f"/media/{content.media[0].sha256}")
    public = [
        o.object_name for o in context.media.client.list_objects(context.media.website_bucket, "media/")
    ]
    assert not any(name.endswith(m.sha256) for m in content.media for name in public)
    await adapter.publish(post, account)
    public = [
        o.object_name for o in context.media.client.list_objects(context.media.website_bucket, "media/")
    ]
    assert {f"media/{m.sha256}" for m in content.media} <= set(public)


async def test_find_existing_recognises_our_article_and_nothing_else(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    content = _content(context)
    post = await adapter.render(content, content.targets[0], account)
    assert await adapter.find_existing(post, account) is None
    result = await adapter.publish(post, account)
    fresh = await adapter.render(content, content.targets[0], account)  # no progress: search by marker
    found = await adapter.find_existing(fresh, account)
    assert found is not None and found.external_id == result.external_id


def _announced(context: FakeContext) -> Content:
    """A content whose Zalo target asks for a broadcast to followers."""
    return _content(
        context, targets=[Target(channel="zalo", account="bo-tttt", options={"notify_followers": True})]
    )


async def test_broadcast_is_sent_once_even_when_publish_is_repeated(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str
) -> None:
    content = _announced(context)
    post = await adapter.render(content, content.targets[0], account)
    first = await adapter.publish(post, account)
    again = await adapter.publish(post, account)  # e.g. a retry after a crash: progress says it went
    broadcasts = _records(sandbox_url, "broadcast")
    assert len(broadcasts) == 1
    assert broadcasts[0]["article_id"] == first.external_id == again.external_id


async def test_a_spent_consultation_quota_does_not_hold_a_broadcast(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str, oa: dict[str, str]
) -> None:
    """``/v2.0/oa/quota/message`` counts free consultation messages ("active"), not broadcasts."""
    emulator.state.apps[oa["app_id"]].consultation_remaining = 0
    content = _announced(context)
    result = await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    assert [b for b in _records(sandbox_url, "broadcast") if b["article_id"] == result.external_id]


async def test_a_broadcast_past_its_quota_waits_for_the_next_day_then_goes_once(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str, oa: dict[str, str]
) -> None:
    """-211 "out of quota" (OA API error table): wait, do not fail the content."""
    emulator.state.apps[oa["app_id"]].broadcasts_remaining = 0
    content = _announced(context)
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(TransientError) as caught:
        await adapter.publish(post, account)
    assert caught.value.code == "-211"
    assert caught.value.retry_at is not None and caught.value.retry_at > datetime.now(UTC)
    emulator.state.apps[oa["app_id"]].broadcasts_remaining = 1  # the next quota day
    result = await adapter.publish(post, account)
    sent = [b for b in _records(sandbox_url, "broadcast") if b["article_id"] == result.external_id]
    assert len(sent) == 1
    assert len([a for a in emulator.state.articles.values() if a["title"] == post.title]) == 1


@pytest.mark.parametrize("code", [-204, -209, -212, -219, -221, -223, -224])
async def test_an_account_level_refusal_parks_the_account_with_zalos_reason(
    adapter: ZaloAdapter, account: Account, context: FakeContext, sandbox_url: str, code: int
) -> None:
    """Codes about the OA or the app as a whole (OA API error table): an ``AuthError``, so the
    runtime parks the account once instead of failing each content in turn."""
    body = {"error": code, "message": "OA không được phép dùng API này"}
    httpx.post(
        f"{sandbox_url}/_sandbox/faults",
        json={"platform": "zalo", "status": 200, "body": body, "path": "/article/create"},
    ).raise_for_status()
    content = _content(context)
    with pytest.raises(AuthError) as caught:
        await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    assert caught.value.code == str(code)
    assert "OA không được phép dùng API này" in caught.value.message


async def test_expired_access_token_is_refreshed_once_for_many_concurrent_publishes(
    sandbox_url: str, oa: dict[str, str], account: Account, context: FakeContext
) -> None:
    """Two workers sharing the OA's credentials store, 40 posts, the token expiring under them."""
    settings = ZaloSettings(
        zalo_openapi_url=f"{sandbox_url}/zalo/openapi", zalo_oauth_url=f"{sandbox_url}/zalo/oauth"
    )
    replicas = [ZaloAdapter(context, settings), ZaloAdapter(context, settings)]
    httpx.post(f"{sandbox_url}/zalo/_expire", params={"app_id": oa["app_id"]})
    contents = [_content(context, title=f"Thông báo số {i} về lịch tiếp công dân") for i in range(40)]
    posts = [await replicas[i % 2].render(c, c.targets[0], account) for i, c in enumerate(contents)]
    results = await asyncio.gather(*(replicas[i % 2].publish(p, account) for i, p in enumerate(posts)))
    for replica in replicas:
        await replica.aclose()
    assert len({r.external_id for r in results}) == 40
    assert emulator.state.apps[oa["app_id"]].refreshes == 1
    assert _records(sandbox_url, "refresh_refused") == []  # no refresh token was ever used twice
    assert context.credentials[("zalo", "bo-tttt")]["refresh_token"].reveal() != oa["refresh_token"]


async def test_a_refused_refresh_token_needs_a_person_and_says_so(
    adapter: ZaloAdapter, oa: dict[str, str], sandbox_url: str, context: FakeContext
) -> None:
    stale = Account(
        "zalo",
        "bo-tttt",
        {k: Secret(oa[k]) for k in ("app_id", "secret_key", "access_token")}
        | {"refresh_token": Secret("da-dung-roi")},
    )
    httpx.post(f"{sandbox_url}/zalo/_expire", params={"app_id": oa["app_id"]})
    content = _content(context)
    with pytest.raises(AuthError, match="re-authorise") as raised:
        await adapter.publish(await adapter.render(content, content.targets[0], stale), stale)
    assert oa["secret_key"] not in str(raised.value)
    assert "da-dung-roi" not in str(raised.value)


async def test_a_rate_limited_refresh_is_transient_not_a_person_to_call(
    adapter: ZaloAdapter, account: Account, oa: dict[str, str], sandbox_url: str, context: FakeContext
) -> None:
    """A 429 from the OAuth endpoint says "later", not "re-authorise": the account must not be parked
    (it was: an answer without ``access_token`` was taken for a refused refresh token)."""
    httpx.post(f"{sandbox_url}/zalo/_expire", params={"app_id": oa["app_id"]})
    httpx.post(
        f"{sandbox_url}/_sandbox/faults",
        json={
            "platform": "zalo",
            "status": 429,
            "body": {"error": "too_many_requests"},
            "path": "/access_token",
        },
    ).raise_for_status()
    content = _content(context)
    with pytest.raises(TransientError):
        await adapter.publish(await adapter.render(content, content.targets[0], account), account)


async def test_vietnamese_text_arrives_nfc_and_within_zalo_limits(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    nfd_title = unicodedata.normalize("NFD", "Đường dây nóng " + ALL_VIETNAMESE[:60])
    content = _content(context, title=nfd_title, summary=ALL_VIETNAMESE * 3)
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    article = emulator.state.articles[result.external_id]
    assert article["title"] == unicodedata.normalize("NFC", nfd_title)
    assert len(article["title"]) <= 150
    assert len(article["description"]) <= 300
    assert article["description"].endswith("…")
    assert unicodedata.is_normalized("NFC", article["description"])


async def test_a_unit_name_longer_than_zalo_allows_is_refused_with_the_field(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    from loa.channels import PermanentError

    content = _content(context, unit="Cục Phát thanh, truyền hình và thông tin điện tử thuộc Bộ Thông tin")
    with pytest.raises(PermanentError, match=r"^author: "):
        await adapter.render(content, content.targets[0], account)


def _video(context: FakeContext, size: int = 3 * 1024 * 1024 + 17) -> tuple[MediaRef, bytes]:
    data = b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * (size // 256) + b"\x00" * (size % 256 - 12)
    stored = context.media.put_stream(io.BytesIO(data), "video/mp4")
    ref = MediaRef(key=stored.key, sha256=stored.sha256, content_type="video/mp4", size=stored.size)
    return ref, data


async def test_a_video_content_becomes_a_video_article_uploaded_once(
    sandbox_url: str, account: Account, context: FakeContext
) -> None:
    progress = FakeContext(context.media)
    settings = ZaloSettings(
        zalo_openapi_url=f"{sandbox_url}/zalo/openapi", zalo_oauth_url=f"{sandbox_url}/zalo/oauth"
    )
    adapter = ZaloAdapter(progress, settings)
    video, data = _video(context)
    cover = _image(context, "darkgreen")
    content = _content(context, kind="video", media=[video, cover], title="Phóng sự: Đề án 06 ở Điện Biên")
    post = await adapter.render(content, content.targets[0], account)
    assert post.payload["article"]["type"] == "video" and "body" not in post.payload["article"]
    result = await adapter.publish(post, account)

    [upload] = _records(sandbox_url, "video")
    assert (upload["sha256"], upload["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
    article = emulator.state.articles[result.external_id]
    assert (article["type"], article["video_id"]) == ("video", upload["video_id"])
    assert article["avatar"].endswith(f"/media/{cover.sha256}")
    # the upload token was saved before anything else, then the video id
    assert progress.saved[0] == {"video_token": post.progress["video_token"]}
    assert progress.saved[1]["video_id"] == upload["video_id"]

    # a restart after the upload (progress = upload token only) polls it and never uploads again
    again = await adapter.render(content, content.targets[0], account)
    again.progress = {"video_token": post.progress["video_token"]}
    fresh = await adapter.find_existing(again, account)
    assert fresh is None  # no video id saved yet: nothing could have been created from it
    emulator.state.articles.clear()
    await adapter.publish(again, account)
    assert len(_records(sandbox_url, "video")) == 1
    found = await adapter.find_existing(again, account)
    assert found is not None
    await adapter.aclose()


async def test_a_video_zalo_cannot_take_is_refused_at_render(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    from loa.channels import LimitError, check_limits

    cover = _image(context, "gray")
    too_big = MediaRef(
        key="sha256/" + "a" * 64, sha256="a" * 64, content_type="video/mp4", size=51 * 1024 * 1024
    )
    quicktime = too_big.model_copy(update={"content_type": "video/quicktime", "size": 1000})
    # render, then the runtime's limits check (as at intake): refused before any upload
    for video, reason in ((too_big, "50 MB"), (quicktime, "video/quicktime is not accepted")):
        content = _content(context, kind="video", media=[video, cover])
        with pytest.raises(LimitError, match=reason):
            check_limits(await adapter.render(content, content.targets[0], account), adapter.limits)
    no_cover = _content(context, kind="video", media=[_video(context, 1000)[0]])
    with pytest.raises(LimitError, match="avatar"):
        await adapter.render(no_cover, no_cover.targets[0], account)


def _noise_png(context: FakeContext, width: int, height: int) -> MediaRef:
    """Random pixels compress badly: a PNG of several MB."""
    data = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        data, "PNG", compress_level=1
    )
    stored = context.media.put_stream(io.BytesIO(data.getvalue()), "image/png")
    return MediaRef(
        key=stored.key, sha256=stored.sha256, content_type="image/png", size=stored.size, alt="Ảnh lớn"
    )


async def test_images_over_1_mb_are_re_encoded_to_fit(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    big = _noise_png(context, 1400, 1000)
    assert big.size > 1024 * 1024
    body = f'<p>Mở đầu.</p><p><img src="loa-media:{big.key}" alt="Ảnh lớn"></p>'
    content = _content(context, media=[big], body=body)
    post = await adapter.render(content, content.targets[0], account)
    [fitted] = post.media
    assert fitted.content_type == "image/jpeg" and fitted.size <= 1024 * 1024 and fitted.alt == "Ảnh lớn"
    article = post.payload["article"]
    assert article["cover"]["photo_url"].endswith(f"/media/{fitted.sha256}")
    assert [i["url"] for i in article["body"] if i["type"] == "image"] == [article["cover"]["photo_url"]]
    await adapter.publish(post, account)  # the public copy is made when the article is sent
    public = context.media.client.stat_object(context.media.website_bucket, f"media/{fitted.sha256}")
    assert public.size == fitted.size
    with Image.open(io.BytesIO(b"".join(context.media.iter_bytes(fitted.key)))) as image:
        assert image.format == "JPEG" and max(image.size) <= 2048


def _public(context: FakeContext) -> set[str]:
    bucket = context.media.website_bucket
    return {o.object_name for o in context.media.client.list_objects(bucket, "media/")}


async def test_a_retraction_releases_the_articles_public_photos_but_not_one_another_publication_shows(
    adapter: ZaloAdapter, account: Account, context: FakeContext
) -> None:
    """Like the website's (``MediaStore.release_public``): a photo taken down must not stay one URL
    away, unless another live publication still shows it; an update that drops a photo releases it."""
    content = _content(context)
    cover, inline = (f"media/{m.sha256}" for m in content.media)
    context.media.publish_public(content.media[0], "website:" + content.id)  # the website shows the cover
    result = await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    assert {cover, inline} <= _public(context)

    third = _image(context, "darkgreen")
    body = f'<p>Ảnh mới về Đề án 06.</p><p><img src="loa-media:{third.key}" alt="Ảnh mới"></p>'
    changed = _content(
        context, id=content.id, version=2, body=body, media=[content.media[0], third], title="Đính chính"
    )
    result = await adapter.update(await adapter.render(changed, changed.targets[0], account), result, account)
    assert inline not in _public(context)  # the update dropped it: nobody shows it any more
    assert {cover, f"media/{third.sha256}"} <= _public(context)

    await adapter.retract(result, account)
    assert f"media/{third.sha256}" not in _public(context)
    assert cover in _public(context)  # still on the website
    context.media.release_public([content.media[0].sha256], "website:" + content.id)
    assert cover not in _public(context)

"""The YouTube adapter against the emulator over TLS, with real MinIO: uploads, resume, scheduling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loa.channels.scheduling import whole_second_after
from services.sandbox.frame import sandbox
from services.sandbox.youtube_state import state
from tests.channels.youtube.support import Crash, RecordingContext, account, content, put_image, put_video

pytestmark = pytest.mark.integration
CHUNK = 256 * 1024


async def test_upload_streams_in_chunks_and_the_bytes_arrive_intact(make_adapter, store) -> None:
    video = put_video(store, 3 * 1024 * 1024 + 12_345)
    image = put_image(store)
    adapter, context = make_adapter()
    acct = account()
    post = await adapter.render(content([video, image]), content([video]).targets[0], acct)

    result = await adapter.publish(post, acct)

    st = state()
    assert len(st.sessions) == 1
    assert len(st.videos) == 1
    uploaded = st.videos[result.external_id]
    assert (uploaded.size, uploaded.sha256) == (video.size, video.sha256)
    assert result.url == f"https://www.youtube.com/watch?v={result.external_id}"
    assert result.scheduled_natively is False
    offsets = [p["offset"] for p in context.saved if "offset" in p]
    assert offsets[0] == 0  # the session is saved before the first byte
    assert offsets[1:] == [CHUNK * i for i in range(1, len(offsets))]  # then after every chunk
    assert context.saved[-1] == {"video_id": result.external_id, "size": video.size, "scheduled": False}
    assert (
        uploaded.snippet["title"] == "Họp báo Chính phủ thường kỳ tháng 11: Đẩy mạnh chuyển đổi số quốc gia"
    )
    assert uploaded.snippet["defaultLanguage"] == "vi"
    assert uploaded.snippet["categoryId"] == "25"
    assert post.marker in uploaded.snippet["tags"]
    assert "https://bo-thong-tin.gov.vn/2026/11/" in uploaded.snippet["description"]
    assert "#chuyểnđổisố" in uploaded.snippet["description"]
    assert uploaded.status["privacyStatus"] == "public"
    assert uploaded.status["selfDeclaredMadeForKids"] is False
    assert uploaded.thumbnail is not None
    assert uploaded.thumbnail.startswith(b"\x89PNG")


async def test_a_restarted_publisher_resumes_the_same_session(make_adapter, store) -> None:
    video = put_video(store, 2 * 1024 * 1024, seed=11)  # 8 chunks
    acct = account()
    first, first_context = make_adapter(RecordingContext(store, crash_after_saves=4))
    post = await first.render(content([video]), content([video]).targets[0], acct)
    with pytest.raises(Crash):
        await first.publish(post, acct)
    persisted = first_context.saved[-1]
    assert persisted["offset"] == 3 * CHUNK
    del first  # the process is gone; only the job's saved progress survives

    second, context = make_adapter()
    post.progress = dict(persisted)
    assert await second.find_existing(post, acct) is None  # unfinished: nothing to find, publish resumes
    result = await second.publish(post, acct)

    st = state()
    assert len(st.sessions) == 1
    assert len(st.videos) == 1
    session = next(iter(st.sessions.values()))
    assert session.chunks == 8  # no byte range went up twice
    assert st.videos[result.external_id].sha256 == video.sha256
    assert next(p["offset"] for p in context.saved if "offset" in p) == 4 * CHUNK


async def test_find_existing_finds_the_video_by_its_marker(make_adapter, store) -> None:
    video = put_video(store, CHUNK)
    adapter, _ = make_adapter()
    acct = account()
    post = await adapter.render(content([video]), content([video]).targets[0], acct)
    result = await adapter.publish(post, acct)

    post.progress = {}  # the job lost everything: the marker still finds it
    found = await adapter.find_existing(post, acct)
    assert found is not None
    assert found.external_id == result.external_id

    other = await adapter.render(content([video], id="tin-khac-01"), content([video]).targets[0], acct)
    assert await adapter.find_existing(other, acct) is None


async def test_native_scheduling_goes_public_when_the_clock_passes(make_adapter, store) -> None:
    video = put_video(store, CHUNK)
    adapter, _ = make_adapter()
    acct = account()
    due = datetime.now(UTC) + timedelta(hours=2)
    post = await adapter.render(content([video], publish_at=due), content([video]).targets[0], acct)

    result = await adapter.publish(post, acct)

    assert result.scheduled_natively is True
    status = state().videos[result.external_id].status
    assert status["privacyStatus"] == "private"
    assert status["publishAt"] == whole_second_after(due).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await adapter.confirm(result, acct) is None  # not live yet
    sandbox.clock_offset += timedelta(hours=2, minutes=1)
    confirmed = await adapter.confirm(result, acct)
    assert confirmed is not None
    assert confirmed.extra["privacy"] == "public"


async def test_the_reader_page_shows_each_video_as_it_stands(make_adapter, store, yt_sandbox) -> None:
    import ssl

    import httpx

    video, image = put_video(store, CHUNK), put_image(store)
    adapter, _ = make_adapter()
    acct = account()
    due = datetime.now(UTC) + timedelta(hours=2)
    scheduled = content([video, image], publish_at=due)
    post = await adapter.render(scheduled, scheduled.targets[0], acct)
    result = await adapter.publish(post, acct)

    async with httpx.AsyncClient(
        base_url=yt_sandbox.url, verify=ssl.create_default_context(cafile=yt_sandbox.tls.ca_pem)
    ) as client:
        page = (await client.get("/", params={"platform": "youtube"})).text
        thumb = await client.get(f"/_sandbox/youtube/thumbnails/{result.external_id}")
        assert "Họp báo Chính phủ thường kỳ tháng 11" in page
        assert "Đồng chí Đặng Văn Đức chủ trì buổi họp." in page
        assert f'<img src="/_sandbox/youtube/thumbnails/{result.external_id}"' in page
        assert (
            '<b class="privacy">private</b> · goes public at '
            + whole_second_after(due).strftime("%Y-%m-%dT%H:%M:%SZ")
            in page
        )
        assert thumb.headers["content-type"] == "image/png"

        sandbox.clock_offset += timedelta(hours=2, minutes=1)  # the card follows the schedule
        page = (await client.get("/", params={"platform": "youtube"})).text
        assert '<b class="privacy">public</b>' in page
        assert "goes public at" not in page

        await adapter.retract(result, acct)
        page = (await client.get("/", params={"platform": "youtube"})).text
        assert '<b class="privacy">private</b>' in page

        (await client.post("/_sandbox/reset")).raise_for_status()
        assert state().videos == {} and state().sessions == {} and state().tokens == {}
        assert "Họp báo Chính phủ" not in (await client.get("/")).text
        assert (await client.get("/_sandbox/youtube/state")).json()["videos"] == []


def privacies(video_id: str) -> list[str]:
    """Every privacy the video had, in order (the sandbox records each change)."""
    return [r.data["privacy"] for r in sandbox.list("youtube", "privacy") if r.data["id"] == video_id]


async def test_a_public_video_is_uploaded_private_and_made_public_last(make_adapter, store) -> None:
    video, image = put_video(store, 300 * 1024, seed=3), put_image(store)
    adapter, _ = make_adapter()
    acct = account()
    post = await adapter.render(content([video, image]), content([video]).targets[0], acct)

    result = await adapter.publish(post, acct)

    assert privacies(result.external_id) == ["private", "public"]
    [update] = [r.data for r in sandbox.list("youtube", "update")]
    assert update["parts"] == ["status"]  # the last call: the thumbnail was set while private
    assert state().videos[result.external_id].thumbnail is not None


async def test_a_video_retracted_during_its_upload_stays_private(make_adapter, store) -> None:
    video = put_video(store, 300 * 1024, seed=5)
    adapter, context = make_adapter()
    acct = account()
    post = await adapter.render(content([video]), content([video]).targets[0], acct)
    context.retracted = True  # the retraction came while the bytes were on their way

    result = await adapter.publish(post, acct)

    assert privacies(result.external_id) == ["private"]
    assert state().videos[result.external_id].status["privacyStatus"] == "private"

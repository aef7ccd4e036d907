"""YouTube, end to end: Kafka → the YouTube publisher → the YouTube API emulator (TLS, resumable upload)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from loa.channels.scheduling import whole_second_after
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from services.sandbox.youtube_state import state
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.conftest import StartRun
from tests.e2e.support import (
    PUBLISHED_PATH,
    ChannelRun,
    S,
    article,
    jpeg,
    later,
    put_media,
    small_video,
    youtube_run,
)

pytestmark = pytest.mark.e2e
ACCOUNT = "kenh-ubnd"
VIDEO = small_video(600 * 1024)  # three 256 KiB chunks


@pytest.fixture
async def run(
    settings: LoaSettings, tmp_path, sandbox: SandboxClient, tls_sandbox: TlsSandbox, start_run: StartRun
) -> ChannelRun:
    return await start_run(youtube_run(settings, tmp_path, tls_sandbox, ACCOUNT))


def sample(media: MediaStore, **over):
    video = put_media(media, VIDEO, "video/mp4", alt="Lễ khai trương")
    thumb = put_media(media, jpeg(1280, 720), "image/jpeg", alt="Ảnh bìa")
    return article("youtube", ACCOUNT, [video, thumb], **over)


async def test_sample_video_is_uploaded_edited_and_retracted(run: ChannelRun, media: MediaStore) -> None:
    c = sample(media)
    await run.approve(c)

    last = await run.until_state(c.id, ACCOUNT, S.PUBLISHED, timeout=60)
    assert run.states(c.id, ACCOUNT) == PUBLISHED_PATH
    video = state().videos[last.external_id]
    assert video.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert video.size == len(VIDEO)
    assert video.snippet["title"] == c.title
    assert "Sáng 26/11, UBND thành phố Hà Nội" in video.snippet["description"]
    assert video.status["privacyStatus"] == "public"
    assert video.thumbnail
    assert len(state().videos) == 1

    edited = sample(
        media, cid=c.id, version=2, title="Hà Nội khai trương Trung tâm hành chính công (cập nhật)"
    )
    await run.update(edited)
    await run.until_version(c.id, ACCOUNT, 2, S.PUBLISHED)
    assert state().videos[last.external_id].snippet["title"].endswith("(cập nhật)")
    assert len(state().videos) == 1

    await run.retract(c.id)
    await run.until_state(c.id, ACCOUNT, S.RETRACTED)
    assert state().videos[last.external_id].status["privacyStatus"] == "private"  # retract mode: private


async def test_scheduled_two_hours_ahead_with_publish_at_then_published_after_the_clock_passes(
    run: ChannelRun, media: MediaStore, pass_time
) -> None:
    c = sample(media, publish_at=later(2))
    await run.approve(c)

    await run.watcher.until(lambda: S.PUBLISHING in run.states(c.id, ACCOUNT), 30, what="uploaded")  # type: ignore[union-attr]
    native = await run.until_state(c.id, ACCOUNT, S.SCHEDULED, timeout=60)
    video = state().videos[native.external_id]
    assert video.status["privacyStatus"] == "private"
    assert video.status["publishAt"] == whole_second_after(c.publish_at).strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[arg-type]

    pass_time(timedelta(hours=2, minutes=1))
    live = await run.until_state(c.id, ACCOUNT, S.PUBLISHED, timeout=15)
    assert live.external_id == native.external_id
    assert run.states(c.id, ACCOUNT) == [S.SCHEDULED, S.PUBLISHING, S.SCHEDULED, S.PUBLISHED]
    assert len(state().videos) == 1


async def test_retract_during_the_upload_stops_it_and_nothing_is_ever_public(
    run: ChannelRun, media: MediaStore, sandbox: SandboxClient
) -> None:
    """Issue #25, point 3: the upload went on after the retraction, the video was public for ~6 s."""
    video = small_video(12 * 256 * 1024)  # twelve chunks at 400 ms each: most of it still to go
    c = article("youtube", ACCOUNT, [put_media(media, video, "video/mp4", alt="Hội nghị Đảng bộ")])
    sandbox.latency("youtube", 400)
    await run.approve(c)
    assert run.watcher is not None
    await run.watcher.until(
        lambda: any(s.received for s in state().sessions.values()), 30, "upload under way"
    )

    await run.retract(c.id)

    await run.until_state(c.id, ACCOUNT, S.RETRACTED, timeout=60)
    await asyncio.sleep(1.2)  # any request still on its way has landed
    privacies = [r["data"]["privacy"] for r in sandbox.records("youtube", "privacy")]
    assert set(privacies) <= {"private"}, privacies
    [session] = state().sessions.values()
    assert session.received < len(video)  # stopped: the rest was never sent
    assert S.PUBLISHED not in run.states(c.id, ACCOUNT)

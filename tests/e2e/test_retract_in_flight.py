"""A retraction during a YouTube upload stops it: the video is never public, the delivery ends
`retracted` (issue #25, point 3: the upload went on, the video was public for ~6 s)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from services.sandbox.youtube_state import state
from services.youtube.adapter import YouTubeAdapter
from services.youtube.settings import YouTubeSettings
from tests.e2e.conftest import StartRun
from tests.e2e.support import (
    ChannelRun,
    S,
    approved,
    article,
    fast_settings,
    jpeg,
    put_media,
    retracted,
    small_video,
)
from tests.integration.youtube.support import TlsSandbox

pytestmark = pytest.mark.e2e
ACCOUNT = "kenh-so-tttt"
CHUNK = 256 * 1024
VIDEO = small_video(12 * CHUNK)
LATENCY_MS = 400
"""12 chunks at 400 ms each: the retraction arrives with most of the upload still to go."""


@pytest.fixture
async def run(
    settings: LoaSettings,
    tmp_path: Path,
    sandbox: SandboxClient,
    tls_sandbox: TlsSandbox,
    start_run: StartRun,
) -> ChannelRun:
    yt = fast_settings(
        settings,
        YouTubeSettings,
        tmp_path,
        youtube_api_url=tls_sandbox.url,
        youtube_token_url=f"{tls_sandbox.url}/token",
        youtube_ca_certs=tls_sandbox.tls.ca_pem,
        youtube_chunk_size=CHUNK,
    )
    credentials = {
        "client_id": "loa-e2e.apps.googleusercontent.com",
        "client_secret": "GOCSPX-khong-in-ra",
        "refresh_token": "1//refresh-kenh-so-tttt",
    }
    return await start_run(ChannelRun(YouTubeAdapter, yt, {ACCOUNT: (credentials, {"privacy": "public"})}))


async def test_retract_during_the_upload_stops_it_and_nothing_is_ever_public(
    run: ChannelRun, media: MediaStore, sandbox: SandboxClient
) -> None:
    video = put_media(media, VIDEO, "video/mp4", alt="Hội nghị Đảng bộ")
    thumb = put_media(media, jpeg(1280, 720), "image/jpeg", alt="Ảnh bìa")
    c = article("youtube", ACCOUNT, [video, thumb])
    sandbox.latency("youtube", LATENCY_MS)
    await run.send(approved(c))
    await until(lambda: any(s.received >= CHUNK for s in state().sessions.values()), "the upload under way")

    await run.send(retracted(c.id))

    await run.until_state(c.id, ACCOUNT, S.RETRACTED, timeout=60)
    await asyncio.sleep(3 * LATENCY_MS / 1000)  # any request still on its way has landed
    privacies = {r["data"]["privacy"] for r in sandbox.records("youtube", "privacy")}
    assert "public" not in privacies and "unlisted" not in privacies, sandbox.records("youtube", "privacy")
    assert all(v.status["privacyStatus"] == "private" for v in state().videos.values())
    [session] = state().sessions.values()
    assert session.received < len(VIDEO)  # stopped: the rest was never sent
    assert S.PUBLISHED not in run.states(c.id, ACCOUNT)


async def until(predicate, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)

"""The job store's PostgreSQL restarts in the middle of a Facebook video upload: the video still goes
out, exactly once (issue #25, point 2: a progress save failed, the retry began at offset 0 and
Facebook answered 1363019; the delivery ended `failed` with nothing posted)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.private_stack import PrivateStack
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.sandbox import facebook as emulator
from services.sandbox.client import SandboxClient
from services.sandbox.facebook import state
from tests.e2e.conftest import StartRun
from tests.e2e.support import ChannelRun, S, article, fast_settings, put_media, small_video

pytestmark = pytest.mark.e2e
ACCOUNT = "so-tttt-da-nang"
CHUNK = 32 * 1024
LATENCY_MS = 250
"""20 chunks at 250 ms each: the upload lasts ~5 s, PostgreSQL goes down after the second chunk."""
OUTAGE_S = 8.0
"""Longer than the lease (4 s): the incident's job came back to the dispatcher after its lease."""


async def test_postgres_restart_during_a_video_upload_publishes_it_once(
    settings: LoaSettings,
    tmp_path: Path,
    sandbox: SandboxClient,
    sandbox_url: str,
    media: MediaStore,
    start_run: StartRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = {"id": str(400_000_000_000_000 + uuid.uuid4().int % 10**12), "token": f"EAAG{uuid.uuid4().hex}"}
    httpx.post(
        f"{sandbox_url}/graph/_sandbox/pages", json=page | {"name": "Sở TT&TT Đà Nẵng"}
    ).raise_for_status()
    monkeypatch.setattr(emulator, "VIDEO_CHUNK", CHUNK)
    sandbox.latency("facebook", LATENCY_MS)
    video = small_video(20 * CHUNK)

    with PrivateStack.started(tmp_path, "postgres") as pg:
        fb = fast_settings(
            settings,
            FacebookSettings,
            tmp_path,
            facebook_graph_url=f"{sandbox_url}/graph",
            publisher_database_url=pg.pg_url(),
            publisher_lease_seconds=4,
        )
        run = await start_run(
            ChannelRun(
                FacebookAdapter,
                fb,
                {ACCOUNT: ({"page_access_token": page["token"]}, {"page_id": page["id"]})},
            )
        )
        c = article("facebook", ACCOUNT, [put_media(media, video, "video/mp4", alt="Họp báo Đà Nẵng")])
        try:
            await run.approve(c)
            assert run.watcher is not None
            await run.watcher.until(
                lambda: uploaded(page["id"]) >= 2 * CHUNK, 30, "two chunks on the platform"
            )
            await asyncio.to_thread(pg.stop, "postgres")
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(pg.start, "postgres")
            last = await run.until_state(c.id, ACCOUNT, S.PUBLISHED, timeout=90)
        finally:
            await run.stop()  # before its PostgreSQL goes away
        assert S.FAILED not in run.states(c.id, ACCOUNT)
        videos = [r for r in sandbox.records("facebook", "video") if r["data"]["page_id"] == page["id"]]
        assert len(videos) == 1, videos
        assert videos[0]["data"]["size"] == len(video)
        assert last.external_id == videos[0]["data"]["id"]
        assert [p.kind for p in state().posts.values() if p.page_id == page["id"]] == ["video"]


def uploaded(page_id: str) -> int:
    return max((v.received for v in state().videos.values() if v.page_id == page_id), default=0)

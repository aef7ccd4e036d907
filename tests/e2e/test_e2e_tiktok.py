"""TikTok, end to end: Kafka → the TikTok publisher → the Content Posting API emulator.

The acceptance of issue #23 item 2: a video goes out on TikTok through the emulator with a chunked
upload (two chunks, streamed from MinIO) and status polling; an update keeps the post (TikTok
cannot edit), and a retraction ends ``retract_failed`` saying a person must delete it in the app
(the API has no delete endpoint).
"""

from __future__ import annotations

import hashlib

import pytest

from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.text import count_utf16_units
from services.sandbox import tiktok as emulator
from services.sandbox.client import SandboxClient
from services.tiktok.chunks import CHUNK_MIN
from tests.channels.tiktok.support import USERNAME, video_bytes
from tests.e2e.conftest import StartRun
from tests.e2e.support import PUBLISHED_PATH, ChannelRun, S, article, put_media, tiktok_run

pytestmark = pytest.mark.e2e
ACCOUNT = "ubnd-ha-noi"
VIDEO = video_bytes(2 * CHUNK_MIN + 777)  # two chunks: 5 MiB, then 5 MiB and the trailing bytes


@pytest.fixture
async def run(
    settings: LoaSettings, tmp_path, sandbox: SandboxClient, sandbox_url: str, start_run: StartRun
) -> ChannelRun:
    return await start_run(tiktok_run(settings, tmp_path, sandbox_url, ACCOUNT))


async def test_a_video_goes_out_in_chunks_after_polling_cannot_be_edited_and_is_retracted_by_hand(
    run: ChannelRun, media: MediaStore, settings: LoaSettings, sandbox: SandboxClient
) -> None:
    sandbox.processing("tiktok", 2)  # "still processing" twice after the last chunk
    video = put_media(media, VIDEO, "video/mp4", alt="Lễ khai trương")
    c = article("tiktok", ACCOUNT, [video])
    await run.approve(c)

    last = await run.until_state(c.id, ACCOUNT, S.PUBLISHED, timeout=60)
    assert run.states(c.id, ACCOUNT) == PUBLISHED_PATH
    [post] = emulator.state.posts.values()
    assert last.external_id == post["id"]
    assert last.public_url == f"https://www.tiktok.com/@{USERNAME}/video/{post['id']}"
    assert post["sha256"] == hashlib.sha256(VIDEO).hexdigest() and post["chunks"] == 2
    ranges = [r["data"]["range"] for r in sandbox.records("tiktok", "chunk")]
    assert ranges == [f"0-{CHUNK_MIN - 1}/{len(VIDEO)}", f"{CHUNK_MIN}-{len(VIDEO) - 1}/{len(VIDEO)}"]
    publish = emulator.state.publishes[post["publish_id"]]
    assert publish.checks_left == 0  # the two "processing" answers were polled through
    caption = post["title"]
    assert caption.startswith(c.title) and "Sáng 26/11, UBND thành phố Hà Nội" in caption
    assert canonical_url(c, str(settings.website_base_url)) in caption
    assert "#Hànhchínhcông #Chuyểnđổisố" in caption
    assert count_utf16_units(caption) <= 2200

    await run.update(article("tiktok", ACCOUNT, [video], cid=c.id, version=2, summary="Đính chính: số 258."))
    edited = await run.until_version(c.id, ACCOUNT, 2, S.PUBLISHED)
    assert edited.note is not None and "cannot edit" in edited.note
    assert edited.external_id == last.external_id
    assert len(emulator.state.posts) == 1  # nothing new posted

    await run.retract(c.id)
    failed = await run.until_state(c.id, ACCOUNT, S.RETRACT_FAILED)
    assert failed.error is not None and failed.error.code == "no_delete_endpoint"
    assert "delete it by hand in the TikTok app" in failed.error.message
    assert len(emulator.state.posts) == 1  # still there: a person must take it down

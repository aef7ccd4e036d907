"""Zalo OA, end to end: Kafka → the Zalo publisher → the Zalo OA emulator; one broadcast; edit, remove."""

from __future__ import annotations

import unicodedata
import uuid

import httpx
import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox import zalo as emulator
from services.sandbox.client import SandboxClient
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings
from tests.e2e.conftest import StartRun
from tests.e2e.support import PUBLISHED_PATH, ChannelRun, S, article, fast_settings, jpeg, put_media

pytestmark = pytest.mark.e2e
ACCOUNT = "ubnd-ha-noi"


@pytest.fixture
async def run(
    settings: LoaSettings, tmp_path, sandbox: SandboxClient, sandbox_url: str, start_run: StartRun
) -> ChannelRun:
    app = {"app_id": uuid.uuid4().hex[:12], "secret_key": uuid.uuid4().hex, "oa_id": "ubnd-ha-noi-oa"}
    pair = httpx.post(f"{sandbox_url}/zalo/_apps", json=app).json()
    credentials = {
        **{k: app[k] for k in ("app_id", "secret_key")},
        **{k: pair[k] for k in ("access_token", "refresh_token")},
    }
    zalo = fast_settings(
        settings,
        ZaloSettings,
        tmp_path,
        zalo_openapi_url=f"{sandbox_url}/zalo/openapi",
        zalo_oauth_url=f"{sandbox_url}/zalo/oauth",
    )
    return await start_run(ChannelRun(ZaloAdapter, zalo, {ACCOUNT: (credentials, {})}))


async def test_sample_article_with_cover_and_one_broadcast_then_edited_and_removed(
    run: ChannelRun, media: MediaStore, sandbox: SandboxClient
) -> None:
    cover = put_media(media, jpeg(), "image/jpeg", alt="Trụ sở trung tâm")
    c = article("zalo", ACCOUNT, [cover], target_options={"notify_followers": True})
    await run.approve(c)

    last = await run.until_state(c.id, ACCOUNT, S.PUBLISHED)
    assert run.states(c.id, ACCOUNT) == PUBLISHED_PATH
    live = emulator.state.articles[last.external_id]
    assert live["title"] == c.title
    assert unicodedata.is_normalized("NFC", live["description"])
    assert live["description"].startswith("Sáng 26/11, UBND thành phố Hà Nội")
    assert live["cover"]["photo_url"]
    assert any("1.864 thủ tục hành chính" in item.get("content", "") for item in live["body"])
    broadcasts = sandbox.records("zalo", "broadcast")
    assert [b["data"]["article_id"] for b in broadcasts] == [last.external_id]  # sent once

    edited = article(
        "zalo",
        ACCOUNT,
        c.media,
        cid=c.id,
        version=2,
        summary="Đính chính: trụ sở ở số 258 Võ Chí Công.",
        target_options={"notify_followers": True},
    )
    await run.update(edited)
    await run.until_version(c.id, ACCOUNT, 2, S.PUBLISHED)
    assert emulator.state.articles[last.external_id]["description"].startswith("Đính chính")
    assert len(sandbox.records("zalo", "broadcast")) == 1  # an edit is not announced again

    await run.retract(c.id)
    await run.until_state(c.id, ACCOUNT, S.RETRACTED)
    assert last.external_id not in emulator.state.articles
    assert len(sandbox.records("zalo", "article")) == 1

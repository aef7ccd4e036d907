"""Issue #18's acceptance on the channels that have comments (Facebook, YouTube, X), on the real stack:
a Vietnamese press release goes out on all three through their publishers; the sandbox plays the
misinformation scenario; the listener's next poll brings the false claims and the watch raises an
alert; an operator replies to a citizen's question and hides a false claim on each channel through
the tracker's API (through each channel's publisher); the day's report shows the post's figures on
each channel.

Kafka, MinIO, SQLite stores; the sandbox in this process (``comment_acceptance_steps``: its clock, the
scenario and the listeners' schedule). One listener per channel, each on its channel's job store (each
publisher here has its own store and key). The same acceptance with the sample on every channel, through
the ingest: ``test_acceptance_every_channel.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from loa.events import ContentApproved, topics
from loa.events.content import Content, Target
from loa.events.envelope import utcnow
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.comment_acceptance_steps import (
    COMMENTED,
    fast_sandbox,
    listener_settings,
    listening,
    readers_on_the_sandbox,
    reply_and_hide,
    todays_report,
    until_alerted,
    until_published,
)
from tests.e2e.incident_drill_stage import ACCOUNTS, _facebook, _x, drill_media
from tests.e2e.support import StartRun, youtube_run
from tests.integration.tracker.support import (
    UNIT,
    create_topics,
    producer,
    running_tracker,
    send,
    tracker_settings,
)

pytestmark = pytest.mark.e2e
SOCIAL = COMMENTED
TITLE = "Đà Nẵng: người cao tuổi được khám sức khoẻ miễn phí tại trạm y tế phường từ 15/12/2026"


async def test_the_false_claim_is_seen_answered_and_hidden_on_every_channel_and_the_day_reported(
    settings: LoaSettings,
    tmp_path: Path,
    sandbox: SandboxClient,
    sandbox_url: str,
    tls_sandbox: TlsSandbox,
    media: MediaStore,
    start_run: StartRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await create_topics(settings)
    fast_sandbox()
    for channel in SOCIAL:
        (tmp_path / channel).mkdir()
    runs = [
        _facebook(settings, tmp_path / "facebook", sandbox_url),
        youtube_run(settings, tmp_path / "youtube", tls_sandbox, ACCOUNTS["youtube"]),
        _x(settings, tmp_path / "x", sandbox_url),
    ]
    await asyncio.gather(*(start_run(r) for r in runs))
    readers_on_the_sandbox(monkeypatch, sandbox_url, tls_sandbox)
    content_id = f"kham-suc-khoe-{uuid.uuid4().hex[:6]}"
    content = Content(
        id=content_id,
        version=1,
        title=TITLE,
        summary="Từ 15/12/2026, người từ 60 tuổi được khám sức khoẻ miễn phí tại trạm y tế phường.",
        body="<p>Người dân mang căn cước công dân đến trạm y tế phường nơi cư trú; không thu phí.</p>",
        unit=UNIT,
        approved_by="Nguyễn Thị Hồng Nhung",
        approved_at=utcnow(),
        media=drill_media(media),
        targets=[Target(channel=c, account=ACCOUNTS[c]) for c in SOCIAL],
    )
    ts = tracker_settings(settings, f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    async with running_tracker(ts) as (_, client), producer(settings) as p:
        await send(p, settings, topics.CONTENT, [ContentApproved(payload=content)])
        await until_published(client, content_id, SOCIAL)
        async with listening([listener_settings(settings, r, tmp_path / r.channel) for r in runs]):
            await until_alerted(client, content_id, SOCIAL)
            # the operator acts while the listeners poll on: the first poll after the alert may not
            # yet have brought a citizen's question
            await reply_and_hide(client, content_id, SOCIAL)

        by_channel = await todays_report(client, UNIT)
        assert set(SOCIAL) <= set(by_channel), by_channel
        for channel in SOCIAL:
            row = by_channel[channel]
            assert row["published"] == 1 and row["audience"] and row["comments"], row

"""Issue #18's acceptance on the channels that have comments (Facebook, YouTube, X), on the real stack:
a Vietnamese press release goes out on all three through their publishers; the sandbox plays the
misinformation scenario; the listener's next poll brings the false claims and the watch raises an
alert; an operator replies to a citizen's question and hides a false claim on each channel through
the tracker's API (through each channel's publisher); the day's report shows the post's figures on
each channel.

Kafka, MinIO, SQLite stores; the sandbox in this process (ten simulated minutes per second: the burst
comes an hour after the post, six seconds of clock; the listeners poll at 2 s and 12 s). One listener
per channel, each on its channel's job store (each publisher here has its own store and key).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loa.events import DEFAULT_TIMEZONE, ContentApproved, topics
from loa.events.content import Content, Target
from loa.events.envelope import utcnow
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.listener.settings import ListenerSettings
from services.sandbox import citizen_comments
from services.sandbox import engagement as simulation
from services.sandbox.client import SandboxClient
from services.sandbox.facebook_comments import hidden as facebook_hidden
from services.sandbox.frame import sandbox as sandbox_state
from services.sandbox.x_replies import hidden as x_hidden
from services.sandbox.youtube_comments import held
from tests.channels.youtube.support import TlsSandbox
from tests.e2e.incident_drill_stage import ACCOUNTS, _facebook, _x, drill_media
from tests.e2e.support import ChannelRun, StartRun, youtube_run
from tests.integration.tracker.support import (
    UNIT,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    tracker_settings,
)
from tests.integration.tracker.test_listener_flow import running_listener

pytestmark = pytest.mark.e2e
SOCIAL = ("facebook", "youtube", "x")
TITLE = "Đà Nẵng: người cao tuổi được khám sức khoẻ miễn phí tại trạm y tế phường từ 15/12/2026"
REPLY = "Chào anh/chị, đăng ký tại trạm y tế phường, không thu phí. Sở Y tế Đà Nẵng."


def listener_settings(base: LoaSettings, run: ChannelRun, tmp: Path) -> ListenerSettings:
    channel = run.channel
    return ListenerSettings(
        mode="development",
        kafka_bootstrap=base.kafka_bootstrap,
        topic_prefix=base.topic_prefix,
        channels=channel,
        credentials_key=run.settings.credentials_key,
        publisher_database_url=run.settings.publisher_database_url,
        listener_database_url=f"sqlite+aiosqlite:///{tmp / f'listener-{channel}.db'}",
        listener_group_id=f"loa-listener-{channel}-{base.topic_prefix.strip('.')}",
        listener_schedule="2s,12s",
        listener_comment_schedule="2s,12s",
        listener_then_every="1d",
        listener_follow_for="1d",
        listener_idle_s=0.2,
    )


@contextlib.asynccontextmanager
async def listening(settings: list[ListenerSettings]) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for s in settings:
            await stack.enter_async_context(running_listener(s))
        yield


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
    sandbox_state.reset()
    simulation.simulation.speed = 600.0
    simulation.play("misinformation", {"after_s": 3600, "count": 25, "spread_s": 600})
    for channel in SOCIAL:
        (tmp_path / channel).mkdir()
    runs = [
        _facebook(settings, tmp_path / "facebook", sandbox_url),
        youtube_run(settings, tmp_path / "youtube", tls_sandbox, ACCOUNTS["youtube"]),
        _x(settings, tmp_path / "x", sandbox_url),
    ]
    await asyncio.gather(*(start_run(r) for r in runs))
    # the listeners' readers take the platforms' URLs from the environment, as in production
    monkeypatch.setenv("LOA_FACEBOOK_GRAPH_URL", f"{sandbox_url}/graph")
    monkeypatch.setenv("LOA_X_API_URL", f"{sandbox_url}/x")
    monkeypatch.setenv("LOA_YOUTUBE_API_URL", tls_sandbox.url)
    monkeypatch.setenv("LOA_YOUTUBE_TOKEN_URL", f"{tls_sandbox.url}/token")
    monkeypatch.setenv("LOA_YOUTUBE_CA_CERTS", str(tls_sandbox.tls.ca_pem))
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

        async def deliveries() -> dict[str, str]:
            found = await client.get(f"/api/v1/contents/{content_id}", headers=auth("viewer"))
            if found.status_code != 200:
                return {}
            return {d["channel"]: d["state"] for d in found.json()["deliveries"]}

        async def published() -> bool:
            return await deliveries() == dict.fromkeys(SOCIAL, "published")

        await eventually(published, within=90, what="the press release published on the three channels")

        async def inbox(**params: str) -> list[dict[str, Any]]:
            answer = await client.get(
                "/api/v1/comments", params={"content": content_id, **params}, headers=auth("viewer")
            )
            return list(answer.json())

        async with listening([listener_settings(settings, r, tmp_path / r.channel) for r in runs]):

            async def alerted_everywhere() -> bool:
                alerts = (await client.get("/api/v1/watch/alerts", headers=auth("viewer"))).json()
                return {a["channel"] for a in alerts if a["content_id"] == content_id} >= set(SOCIAL)

            await eventually(alerted_everywhere, within=40, what="the watch's alert on every channel")

        comments = await inbox()
        for channel in SOCIAL:
            mine = [c for c in comments if c["channel"] == channel]
            question = next(c for c in mine if c["text"] in citizen_comments.ORGANIC)
            claim = next(c for c in mine if c["matched"])
            answered = await client.post(
                f"/api/v1/comments/{question['id']}/reply", json={"text": REPLY}, headers=auth("operator")
            )
            assert answered.status_code == 202, answered.text
            hid = await client.post(f"/api/v1/comments/{claim['id']}/hide", headers=auth("operator"))
            assert hid.status_code == 202, hid.text

        async def settled() -> bool:
            acted = [c for c in await inbox() if c["action_state"]]
            return len(acted) == 2 * len(SOCIAL) and all(c["action_state"] == "done" for c in acted)

        await eventually(settled, within=40, what="the publishers' outcomes of the replies and hides")
        acted = [c for c in await inbox() if c["action_state"]]
        assert sorted((c["channel"], c["state"]) for c in acted) == sorted(
            (c, s) for c in SOCIAL for s in ("answered", "hidden")
        )
        assert all(c["reply_text"] == REPLY for c in acted if c["state"] == "answered")
        hidden_ids = {c["channel"]: c["external_id"] for c in acted if c["state"] == "hidden"}
        assert hidden_ids["facebook"] in facebook_hidden()
        assert hidden_ids["youtube"] in held()
        assert hidden_ids["x"] in x_hidden

        today = utcnow().astimezone(DEFAULT_TIMEZONE).date()
        days = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
        report = await client.get("/api/v1/reports", params=days, headers=auth("viewer"))
        assert report.status_code == 200, report.text
        by_channel = {r["channel"]: r for r in report.json()["rows"] if r["unit"] == UNIT}
        assert set(SOCIAL) <= set(by_channel), report.text
        for channel in SOCIAL:
            row = by_channel[channel]
            assert row["published"] == 1 and row["audience"] and row["comments"], row

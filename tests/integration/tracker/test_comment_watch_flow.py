"""The misinformation watch end to end on the real stack: the sandbox plays the scenario, the listener
reads the comments, the tracker keeps them and raises a signed alert within one polling cycle; an
operator marks them through the API (audited), a spokesperson sets the unit's watchlist.

Kafka, SQLite stores, the sandbox in this process (its simulation ages posts ten minutes per second):
the burst comes an hour (simulated) after the post, six seconds of clock; the listener reads the
comments at 2 s (before it: no alert) and 12 s (after it), on their own schedule: the figures' first
read is 12 hours away, and none is made.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loa.events import DeliveryState, topics
from loa.settings import LoaSettings
from services.listener.settings import ListenerSettings
from services.sandbox import citizen_comments
from services.sandbox import engagement as simulation
from services.sandbox.facebook import Page, state
from services.sandbox.frame import sandbox as sandbox_state
from tests.integration.tracker.support import (
    TOKENS,
    UNIT,
    approved,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)
from tests.integration.tracker.test_listener_flow import running_listener, seeded_job_store
from tests.sandbox_fixtures import sandbox_server, sandbox_url

__all__ = ["sandbox_server", "sandbox_url"]
pytestmark = pytest.mark.integration

ACCOUNT = "trang-so-tttt-da-nang"
MESSAGE = "Đà Nẵng: từ 15/12/2026, người cao tuổi đăng ký khám sức khoẻ miễn phí tại phường."
SECRET = "watch-secret-0123456789abcdef"
SPOKESPERSON = "spokesperson-watch-0123456789abcdef-0123"


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)


async def test_the_misinformation_scenario_raises_a_signed_alert_and_operators_mark_the_comments(
    settings: LoaSettings, sqlite_url: str, tmp_path: Path, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_topics(settings)
    sandbox_state.reset()
    simulation.simulation.speed = 600.0  # ten simulated minutes per second
    simulation.play("misinformation", {"after_s": 3600, "count": 25, "spread_s": 600})
    page_id = str(300_000_000_000_000 + uuid.uuid4().int % 10**12)
    page = state().pages.setdefault(page_id, Page(page_id, "Sở TT&TT Đà Nẵng", f"EAAG{uuid.uuid4().hex}"))
    posted = httpx.post(
        f"{sandbox_url}/graph/v24.0/{page_id}/feed",
        data={"message": MESSAGE},
        headers={"Authorization": f"OAuth {page.token}"},
    )
    post_id = posted.json()["id"]

    receiver = Receiver()
    server = uvicorn.Server(uvicorn.Config(receiver.app, host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hook"

    monkeypatch.setenv("LOA_FACEBOOK_GRAPH_URL", f"{sandbox_url}/graph")
    ls = ListenerSettings(
        mode="development",
        kafka_bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        channels="facebook",
        publisher_database_url=f"sqlite+aiosqlite:///{tmp_path / 'publisher-facebook.db'}",
        listener_database_url=f"sqlite+aiosqlite:///{tmp_path / 'listener.db'}",
        listener_group_id=f"loa-listener-{settings.topic_prefix.strip('.')}",
        listener_schedule="12h",  # the figures: not read during the test
        listener_comment_schedule="2s,12s",  # the comments, on their own table
        listener_then_every="1d",
        listener_follow_for="1d",
        listener_idle_s=0.2,
    )
    await seeded_job_store(ls.job_store_url("facebook"), ls, page)
    content_id = f"kham-suc-khoe-{uuid.uuid4().hex[:6]}"
    published = status(content_id, "facebook", ACCOUNT, DeliveryState.PUBLISHED, 3)
    published = published.model_copy(
        update={"payload": published.payload.model_copy(update={"external_id": post_id})}
    )
    hooks = [{"name": "truc-ban", "url": url, "secret": SECRET}]
    tokens: dict[str, Any] = {name: {"token": tok, "role": name} for name, tok in TOKENS.items()}
    tokens["phat-ngon"] = {"token": SPOKESPERSON, "role": "spokesperson", "units": [UNIT]}
    ts = tracker_settings(
        settings, sqlite_url, tracker_alerts=hooks, tracker_alert_poll_s=0.2, tracker_tokens=tokens
    )
    try:
        async with running_tracker(ts) as (_, client), producer(settings) as p:
            await send(p, settings, topics.CONTENT, [approved(content_id, [("facebook", ACCOUNT)])])

            async def listed(**params: str) -> list[dict[str, Any]]:
                answer = await client.get(
                    "/api/v1/comments", params={"content": content_id, **params}, headers=auth("viewer")
                )
                assert answer.status_code == 200, answer.text
                return list(answer.json())

            async with running_listener(ls):
                await send(p, settings, topics.DELIVERY, [published])

                async def first_poll() -> bool:
                    return bool(await listed())

                await eventually(first_poll, within=15, what="the organic comments of the first poll")
                assert receiver.received == []  # calm comments raise nothing
                assert all(c["text"] in citizen_comments.ORGANIC for c in await listed())

                async def alerted() -> bool:
                    return bool(receiver.received)

                await eventually(alerted, within=20, what="the watch's alert after the second poll")
            headers, body = receiver.received[0]
            signed = hmac.new(
                SECRET.encode(), headers["x-loa-timestamp"].encode() + b"." + body, hashlib.sha256
            )
            assert headers["x-loa-signature"] == "sha256=" + signed.hexdigest()
            alert = json.loads(body)
            assert alert["type"] == "watch.alert" and alert["kind"] == "phrase"
            assert (alert["content_id"], alert["unit"], alert["channel"]) == (content_id, UNIT, "facebook")
            assert alert["links"]["comments"].startswith(f"/inbox?content={content_id}")

            flagged = await listed(keyword="tin giả")
            assert flagged and all("tin giả" in c["text"].lower() for c in flagged)
            assert len(await listed()) == len({c["id"] for c in await listed()})  # each comment once

            target = flagged[0]["id"]
            mark = f"/api/v1/comments/{target}/state"
            refused = await client.post(mark, json={"state": "hidden"}, headers=auth("viewer"))
            assert refused.status_code == 403
            no_note = await client.post(mark, json={"state": "escalated"}, headers=auth("operator"))
            assert no_note.status_code == 422 and "note" in no_note.text
            note = "Chuyển người phát ngôn: cần đính chính về việc thu phí"
            escalated = await client.post(
                mark, json={"state": "escalated", "note": note}, headers=auth("operator")
            )
            assert escalated.status_code == 200, escalated.text
            assert escalated.json()["state"] == "escalated" and escalated.json()["note"] == note
            assert [c["id"] for c in await listed(state="escalated")] == [target]

            watch = f"/api/v1/watchlists/{UNIT}"
            assert (await client.get(watch, headers=auth("viewer"))).json()["default"] is True
            phrases = {"phrases": ["tin giả", "thu phí", "Lừa đảo"]}
            assert (await client.put(watch, json=phrases, headers=auth("operator"))).status_code == 403
            changed = await client.put(
                watch, json=phrases, headers={"Authorization": f"Bearer {SPOKESPERSON}"}
            )
            assert changed.status_code == 200, changed.text
            assert (await client.get(watch, headers=auth("viewer"))).json()["phrases"] == phrases["phrases"]

            alerts = (await client.get("/api/v1/watch/alerts", headers=auth("viewer"))).json()
            assert alerts and alerts[0]["content_id"] == content_id
            figures = await client.get(f"/api/v1/contents/{content_id}/engagement", headers=auth("viewer"))
            assert figures.json()["deliveries"] == []  # comments read twice, figures not once

            async def audited() -> bool:
                found = await client.get(
                    "/api/v1/audit", params={"action": "comment_state"}, headers=auth("admin")
                )
                return any(note in json.dumps(i, ensure_ascii=False) for i in found.json()["items"])

            await eventually(audited, within=10, what="the mark in the audit log")
    finally:
        server.should_exit = True
        await serving

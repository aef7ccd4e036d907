"""Signed webhooks for failed/needs_attention/retract_failed: retried, once per status event, per unit."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loa.events import DeliveryState as S
from loa.events import ErrorClass, topics
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    approved,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)

pytestmark = pytest.mark.integration
SECRET = "alert-secret-0123456789abcdef"


class Receiver:
    """A webhook receiver of our own: answers 503 once, then 200, and keeps what it got."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.refused = 0
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        if self.refused == 0:
            self.refused += 1
            return Response(status_code=503)
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)


async def test_alerts_are_signed_retried_and_sent_once(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    receiver = Receiver()
    server = uvicorn.Server(uvicorn.Config(receiver.app, host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hook"
    hooks: list[dict[str, Any]] = [
        {"name": "ops", "url": url, "secret": SECRET},
        {"name": "other-unit", "url": url, "secret": SECRET, "units": ["Văn phòng Bộ"]},
    ]
    ts = tracker_settings(settings, sqlite_url, tracker_alerts=hooks, tracker_alert_poll_s=0.2)
    failed = status("tin-7", "facebook", "p1", S.FAILED, 2, error=(ErrorClass.AUTH, "190", "Token hết hạn"))
    try:
        async with running_tracker(ts), producer(settings) as p:
            await send(p, settings, topics.CONTENT, [approved("tin-7", [("facebook", "p1")])])
            await asyncio.sleep(1.0)  # the content is known, so the alert carries its unit
            await send(
                p,
                settings,
                topics.DELIVERY,
                [status("tin-7", "facebook", "p1", S.PUBLISHING, 1), failed, failed],
            )

            async def arrived() -> bool:
                return len(receiver.received) >= 1

            await eventually(arrived, within=20, what="the alert after a retry")
            await asyncio.sleep(1.0)
    finally:
        server.should_exit = True
        await serving
    assert receiver.refused == 1
    assert len(receiver.received) == 1  # the duplicate status event made no second alert
    headers, body = receiver.received[0]
    expected = hmac.new(SECRET.encode(), headers["x-loa-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-loa-signature"] == "sha256=" + expected.hexdigest()
    alert = json.loads(body)
    assert alert["event_id"] == headers["x-loa-event-id"]
    assert (alert["state"], alert["channel"], alert["unit"]) == (
        "failed",
        "facebook",
        "Vụ Truyền thông và Báo chí",
    )
    assert alert["error"]["message"] == "Token hết hạn"

"""Auth (401/403), the actions' Kafka messages, stable JSON errors, CSV, SSE, metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer

from loa.events import DeliveryState as S
from loa.events import ErrorClass, RetryDelivery, parse_command, parse_content_event, topics
from loa.events.content import ContentRetracted
from loa.kafka_security import client_security
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    TOKENS,
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

pytestmark = pytest.mark.integration
FAILED = (ErrorClass.AUTH, "190", "Error validating access token")


async def _records(settings: LoaSettings, topic: str, n: int) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    out: list[tuple[bytes, bytes]] = []
    try:
        while len(out) < n:
            batch = await consumer.getmany(timeout_ms=5000)
            if not batch:
                break
            out.extend((r.key, r.value) for records in batch.values() for r in records)
    finally:
        await consumer.stop()
    return out


async def test_auth_actions_errors_csv_sse_and_metrics(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    ts = tracker_settings(settings, sqlite_url)
    async with running_tracker(ts) as (_, client), producer(settings) as p:
        await send(p, settings, topics.CONTENT, [approved("tin-42")])
        await send(
            p,
            settings,
            topics.DELIVERY,
            [status("tin-42", "facebook", "so-ttt-da-nang", S.FAILED, 2, error=FAILED)],
        )

        async def failed() -> bool:
            r = await client.get("/api/v1/deliveries", params={"state": "failed"}, headers=auth("viewer"))
            return bool(r.json()["total"] == 1)

        await eventually(failed, what="the failed delivery")
        did = "tin-42:facebook:so-ttt-da-nang"

        # 401: no token, wrong token; 403: a viewer acting
        r = await client.get("/api/v1/contents")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "unauthorized"
        r = await client.get("/api/v1/contents", headers={"Authorization": "Bearer wrong-token-0123456789"})
        assert r.status_code == 401
        assert TOKENS["viewer"] not in r.text
        r = await client.post(f"/api/v1/deliveries/{did}/retry", headers=auth("viewer"))
        assert r.status_code == 403
        assert r.json()["error"] == {
            "code": "forbidden",
            "message": "viewer may not retry: that needs admin or operator (viewer on *)",
            "fields": [],
        }

        # actions → commands keyed by content id; retract → content.retracted on loa.content.v1
        r = await client.post(
            f"/api/v1/deliveries/{did}/retry", headers=auth("operator"), json={"reason": "Đã gia hạn token"}
        )
        assert r.status_code == 202, r.text
        retry_id = r.json()["command_id"]
        r = await client.post(f"/api/v1/deliveries/{did}/cancel", headers=auth("admin"))
        assert r.status_code == 202
        r = await client.post(  # retract is the office's voice: a spokesperson or an admin, not ops
            "/api/v1/contents/tin-42/retract", headers=auth("operator"), json={"reason": "Sai số liệu"}
        )
        assert r.status_code == 403
        r = await client.post(
            "/api/v1/contents/tin-42/retract", headers=auth("admin"), json={"reason": "Sai số liệu"}
        )
        assert r.status_code == 202
        r = await client.post("/api/v1/deliveries/nope:facebook:x1/retry", headers=auth("operator"))
        assert r.status_code == 404

        # stable errors name the field and the reason
        r = await client.post("/api/v1/contents/tin-42/retract", headers=auth("admin"), json={})
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "body.reason"
        r = await client.get("/api/v1/deliveries", params={"state": "lost"}, headers=auth("viewer"))
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "query.state.0"

        # CSV export of a filtered list, Vietnamese intact
        r = await client.get(
            "/api/v1/deliveries", params={"state": "failed", "format": "csv"}, headers=auth("viewer")
        )
        assert r.headers["content-type"].startswith("text/csv")
        lines = r.text.lstrip("\ufeff").splitlines()
        assert lines[0].startswith("id,content_id,channel")
        assert "Đà Nẵng" in lines[1]
        assert "190" in lines[1]

        # SSE: the current deliveries, then a change arrives live
        async with client.stream("GET", "/api/v1/contents/tin-42/events", headers=auth("viewer")) as stream:
            events = _sse(stream.aiter_lines())
            first = await anext(events)
            assert [d["state"] for d in first] == ["failed", "received"]
            await send(
                p, settings, topics.DELIVERY, [status("tin-42", "facebook", "so-ttt-da-nang", S.PUBLISHED, 3)]
            )
            second = await anext(events)
            assert [d["state"] for d in second] == ["published", "received"]

        r = await client.get("/metrics")
        assert 'loa_tracker_deliveries{channel="facebook",state="published"} 1.0' in r.text
        assert "loa_publish_latency_seconds_count" in r.text
        detail = (await client.get("/api/v1/contents/tin-42", headers=auth("viewer"))).json()
        kinds = [e["kind"] for e in detail["timeline"]]
        assert {"delivery.retry", "delivery.cancel"} <= set(kinds)

    commands = [(k, parse_command(v)) for k, v in await _records(settings, topics.COMMANDS, 2)]
    assert [(k, c.type) for k, c in commands] == [
        (b"tin-42", "delivery.retry"),
        (b"tin-42", "delivery.cancel"),
    ]
    retry = commands[0][1]
    assert isinstance(retry, RetryDelivery)
    assert str(retry.event_id) == retry_id
    assert (retry.payload.channel, retry.payload.account) == ("facebook", "so-ttt-da-nang")
    assert retry.payload.requested_by == "tracker:operator"
    assert retry.payload.reason == "Đã gia hạn token"
    content = [(k, parse_content_event(v)) for k, v in await _records(settings, topics.CONTENT, 2)]
    retraction = content[-1][1]
    assert content[-1][0] == b"tin-42"
    assert isinstance(retraction, ContentRetracted)
    assert (retraction.payload.reason, retraction.payload.requested_by) == ("Sai số liệu", "tracker:admin")


async def _sse(lines: AsyncIterator[str]) -> AsyncIterator[list[dict[str, object]]]:
    event, data = "", ""
    async for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data += line.split(":", 1)[1].strip()
        elif not line and data:
            if event == "deliveries":
                yield json.loads(data)
            event, data = "", ""

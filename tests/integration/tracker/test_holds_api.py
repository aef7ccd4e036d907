"""The hold switch's API: who may hold, clear refusals, the commands on Kafka, the late items."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer

from loa.events import LATE_NOTE, HoldPublishing, ReleaseDelivery, ReleasePublishing, parse_command, topics
from loa.events import DeliveryState as S
from loa.kafka_security import client_security
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
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

pytestmark = pytest.mark.integration
REASON = "Tạm dừng: số liệu thiệt hại do bão ở Đà Nẵng cần Đoàn công tác xác minh"
DID = "tin-tam-dung:facebook:so-ttt-da-nang"


async def _commands(settings: LoaSettings, n: int) -> list[tuple[str, object]]:
    consumer = AIOKafkaConsumer(
        settings.topic(topics.COMMANDS),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    out: list[tuple[str, object]] = []
    try:
        while len(out) < n:
            batch = await consumer.getmany(timeout_ms=5000)
            if not batch:
                break
            out += [(r.key.decode(), parse_command(r.value)) for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return out


async def test_hold_release_and_late_items_through_the_api(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        await send(p, settings, topics.CONTENT, [approved("tin-tam-dung")])
        await send(
            p, settings, topics.DELIVERY, [status("tin-tam-dung", "facebook", "so-ttt-da-nang", S.HELD, 2)]
        )

        async def held() -> bool:
            r = await client.get("/api/v1/deliveries", params={"state": "held"}, headers=auth("viewer"))
            return bool(r.json()["total"] == 1)

        await eventually(held, what="the held delivery")

        # who may hold, and refusals that name the field
        r = await client.post("/api/v1/holds", headers=auth("viewer"), json={"reason": REASON})
        assert r.status_code == 403
        r = await client.post("/api/v1/holds", headers=auth("operator"), json={"reason": "   "})
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "body.reason"
        r = await client.post(
            "/api/v1/holds", headers=auth("operator"), json={"reason": REASON, "account": "so-ttt-da-nang"}
        )
        assert r.status_code == 422
        assert "account: name its channel too" in r.json()["error"]["message"]

        r = await client.post(
            "/api/v1/holds", headers=auth("operator"), json={"reason": REASON, "unit": UNIT}
        )
        assert r.status_code == 201, r.text
        hold = r.json()
        assert (hold["unit"], hold["reason"], hold["held_by"]) == (UNIT, REASON, "tracker:operator")
        r = await client.get("/api/v1/holds", headers=auth("viewer"))
        assert [h["id"] for h in r.json() if h["released_at"] is None] == [hold["id"]]
        # still covered by the active hold: not a late item
        assert (await client.get("/api/v1/holds/late", headers=auth("viewer"))).json() == []
        r = await client.post(
            f"/api/v1/deliveries/{DID}/late", headers=auth("operator"), json={"action": "send_now"}
        )
        assert r.status_code == 409

        r = await client.post(
            f"/api/v1/holds/{hold['id']}/release", headers=auth("operator"), json={"reason": "Đã xác minh"}
        )
        assert r.status_code == 202
        r = await client.post(f"/api/v1/holds/{hold['id']}/release", headers=auth("operator"))
        assert r.status_code == 409
        # released, but the publisher has not said yet whether its time passed: not listed (it
        # used to be, with everything the hold had held, until the publisher's answer came)
        assert (await client.get("/api/v1/holds/late", headers=auth("viewer"))).json() == []
        late_note = status("tin-tam-dung", "facebook", "so-ttt-da-nang", S.HELD, 3, note=LATE_NOTE)
        await send(p, settings, topics.DELIVERY, [late_note])

        async def listed_late() -> bool:
            r = await client.get("/api/v1/holds/late", headers=auth("viewer"))
            return [d["id"] for d in r.json()] == [DID]

        await eventually(listed_late, what="the late item")

        r = await client.post(
            f"/api/v1/deliveries/{DID}/late", headers=auth("operator"), json={"action": "reschedule"}
        )
        assert r.status_code == 422
        assert "at: a new time goes with reschedule" in r.json()["error"]["message"]
        r = await client.post(
            f"/api/v1/deliveries/{DID}/late",
            headers=auth("operator"),
            json={"action": "reschedule", "at": "2030-01-02T08:00:00+07:00", "reason": "Đăng lại sáng mai"},
        )
        assert r.status_code == 202

    # three partitions: a hold and its release share a key (the hold id), the late item's is the
    # content id, so only the first two are ordered with each other
    commands = await _commands(settings, 3)
    assert len(commands) == 3
    (k1, c1), (k2, c2) = [(k, c) for k, c in commands if k == hold["id"]]
    ((k3, c3),) = [(k, c) for k, c in commands if k != hold["id"]]
    assert isinstance(c1, HoldPublishing)
    assert k1 == hold["id"]
    assert (c1.payload.unit, c1.payload.channel, c1.payload.reason) == (UNIT, None, REASON)
    assert isinstance(c2, ReleasePublishing)
    assert (k2, c2.payload.hold_id) == (hold["id"], hold["id"])
    assert isinstance(c3, ReleaseDelivery)
    assert k3 == "tin-tam-dung"
    assert c3.at is not None and c3.at.isoformat() == "2030-01-02T08:00:00+07:00"
    assert c3.payload.requested_by == "tracker:operator"

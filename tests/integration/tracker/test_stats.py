"""``/api/v1/stats`` matches a fixture computed by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loa.events import DeliveryState as S
from loa.events import ErrorClass, topics, utcnow
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
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
A = "Vụ Truyền thông"
B = "Văn phòng Bộ"


def sec(n: float) -> timedelta:
    return timedelta(seconds=n)


async def test_stats_match_a_hand_computed_fixture(settings: LoaSettings, db_url: str) -> None:
    await create_topics(settings)
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=2)
    due2 = t0 + sec(600)
    contents = [
        approved("c1", [("facebook", "p1"), ("website", "main")], unit=A, approved_at=t0),
        approved("c2", [("facebook", "p1")], unit=A, approved_at=t0, publish_at=due2),
        approved("c3", [("facebook", "p1"), ("website", "main")], unit=B, approved_at=t0),
        approved("c4", [("zalo", "oa-bo"), ("facebook", "p1")], unit=B, approved_at=t0),
        approved("c5", [("facebook", "p1")], unit=A, approved_at=t0 - timedelta(days=3)),
    ]
    auth_error = (ErrorClass.AUTH, "190", "Error validating access token: Session has expired")
    statuses = [
        status("c1", "facebook", "p1", S.PUBLISHED, 2, at=t0 + sec(30)),  # 30 s: on time
        status("c1", "website", "main", S.PUBLISHED, 2, at=t0 + sec(90)),  # 90 s: late
        status("c2", "facebook", "p1", S.SCHEDULED, 1, at=t0, due_at=due2),
        status("c2", "facebook", "p1", S.PUBLISHED, 2, at=due2 + sec(10), due_at=due2),  # 10 s after due
        status("c3", "facebook", "p1", S.FAILED, 3, at=t0 + sec(5), error=auth_error),
        status("c3", "website", "main", S.PUBLISHED, 1, at=t0 + sec(20)),  # 20 s
        status(
            "c4",
            "zalo",
            "oa-bo",
            S.NEEDS_ATTENTION,
            1,
            at=t0 + sec(5),
            error=(ErrorClass.AUTH, "89", "Invalid"),
        ),
        status("c4", "facebook", "p1", S.FAILED, 1, at=t0 + sec(5), error=auth_error),
        status("c5", "facebook", "p1", S.PUBLISHED, 1, at=t0 - timedelta(days=3) + sec(1)),  # before `since`
    ]
    async with running_tracker(tracker_settings(settings, db_url)) as (_, client), producer(settings) as p:
        await send(p, settings, topics.CONTENT, contents)
        await eventually(
            lambda: _count(client, "/api/v1/contents", 5),
            what="contents",  # type: ignore[arg-type]
        )
        await send(p, settings, topics.DELIVERY, statuses)
        await eventually(
            lambda: _count(client, "/api/v1/deliveries?state=published", 5),
            what="statuses",  # type: ignore[arg-type]
        )
        r = await client.get(
            "/api/v1/stats", params={"since": (t0 - timedelta(hours=1)).isoformat()}, headers=auth("viewer")
        )
    assert r.status_code == 200, r.text
    body = r.json()
    channels = {g["key"]: g for g in body["by_channel"]}
    assert channels["facebook"] | {"counts": None} == {
        "key": "facebook", "total": 4, "counts": None, "published": 2, "on_time": 2, "on_time_rate": 1.0,
        "latency_p50_s": 10.0, "latency_p95_s": 30.0,
    }  # fmt: skip
    assert channels["facebook"]["counts"] == {"published": 2, "failed": 2}
    assert channels["website"] | {"counts": None} == {
        "key": "website", "total": 2, "counts": None, "published": 2, "on_time": 1, "on_time_rate": 0.5,
        "latency_p50_s": 20.0, "latency_p95_s": 90.0,
    }  # fmt: skip
    assert channels["zalo"]["counts"] == {"needs_attention": 1}
    assert channels["zalo"]["on_time_rate"] is None
    units = {g["key"]: g for g in body["by_unit"]}
    assert units[A]["total"] == 3
    assert (units[A]["published"], units[A]["on_time"], units[A]["on_time_rate"]) == (3, 2, 0.6667)
    assert (units[A]["latency_p50_s"], units[A]["latency_p95_s"]) == (30.0, 90.0)
    assert units[B]["counts"] == {"failed": 2, "published": 1, "needs_attention": 1}
    assert (units[B]["latency_p50_s"], units[B]["on_time_rate"]) == (20.0, 1.0)
    causes = [(c["channel"], c["error_class"], c["code"], c["count"]) for c in body["failure_causes"]]
    assert causes == [("facebook", "auth", "190", 2), ("zalo", "auth", "89", 1)]


async def _count(client, url: str, n: int) -> bool:  # type: ignore[no-untyped-def]
    r = await client.get(url, headers=auth("viewer"))
    return bool(r.json()["total"] == n)

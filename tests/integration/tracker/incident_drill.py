"""An incident drill against a running tracker, in Vietnamese: what happens while an incident of
``UNIT`` is open, with known times, so the tests can check what it groups and each step's duration.

Before the incident: an article (``ORIGINAL``) published on Facebook and the website, and one
(``WAITING``) scheduled for later. While it is open: a correction of the article, an urgent post, a
normal post and another unit's correction (neither grouped), a hold of the unit (the waiting post
turns ``held``) and its release, and the article's retraction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from loa.events import ContentApproved, ContentKind, Priority, topics, utcnow
from loa.events import DeliveryState as S
from loa.settings import LoaSettings
from tests.integration.tracker.support import UNIT, approved, auth, eventually, send, status

OTHER_UNIT = "Sở Y tế Đà Nẵng"
ORIGINAL = "tin-thiet-hai-bao-so-9"
WAITING = "tin-lich-tiep-dan"
CORRECTION = "dinh-chinh-thiet-hai-bao-so-9"
URGENT = "khan-so-tan-ven-bien"
NORMAL = "tin-hoi-nghi-thuong-ky"
ELSEWHERE = "dinh-chinh-so-y-te"
FB = ("facebook", "so-ttt-da-nang")
WEB = ("website", "main")
HOLD_REASON = "Tạm dừng: số liệu thiệt hại do bão số 9 ở Đà Nẵng đang được xác minh"
RETRACT_REASON = "Gỡ bài: số liệu thiệt hại chưa chính xác, đã có bài đính chính"
TITLE = "Thông tin sai về thiệt hại bão số 9 tại Đà Nẵng"
INCIDENT = {"title": TITLE, "severity": "high", "units": [UNIT]}


@dataclass
class Drill:
    hold_id: str
    held_at: datetime
    retracted_at: datetime
    last: datetime
    """The latest step's time: close the incident after it."""


def _with(event: ContentApproved, **changes: Any) -> ContentApproved:
    return event.model_copy(update={"payload": event.payload.model_copy(update=changes)})


async def seed_before(p: AIOKafkaProducer, settings: LoaSettings) -> None:
    """What was out before the incident: the article, published; a post scheduled for later."""
    earlier = utcnow() - timedelta(hours=1)
    later = utcnow() + timedelta(hours=2)
    await send(
        p,
        settings,
        topics.CONTENT,
        [
            approved(ORIGINAL, [FB, WEB], approved_at=earlier, title="Thiệt hại do bão số 9: 12 nhà sập"),
            approved(WAITING, [FB], publish_at=later, title="Lịch tiếp dân tháng 12 của Đà Nẵng"),
        ],
    )
    await send(
        p,
        settings,
        topics.DELIVERY,
        [
            status(ORIGINAL, *FB, S.PUBLISHED, 3, at=earlier + timedelta(seconds=20)),
            status(ORIGINAL, *WEB, S.PUBLISHED, 3, at=earlier + timedelta(seconds=5)),
            status(WAITING, *FB, S.SCHEDULED, 2, due_at=later),
        ],
    )


async def seeded(client: httpx.AsyncClient) -> bool:
    r = await client.get(
        "/api/v1/deliveries", params={"state": ["published", "scheduled"]}, headers=auth("viewer")
    )
    return bool(r.json()["total"] == 3)


async def _until(at: datetime) -> None:
    await asyncio.sleep(max(0.0, (at - utcnow()).total_seconds()) + 0.01)


def _s(base: datetime, seconds: float) -> datetime:
    return base + timedelta(seconds=seconds)


async def play(
    client: httpx.AsyncClient, p: AIOKafkaProducer, settings: LoaSettings, opened_at: datetime
) -> Drill:
    """Everything done while the incident is open, at known offsets from its opening."""
    t0 = opened_at
    correction = _with(
        approved(
            CORRECTION, [FB, WEB], approved_at=_s(t0, 0.2), title="Đính chính: 2 nhà sập, không phải 12"
        ),
        kind=ContentKind.CORRECTION,
        corrects=ORIGINAL,
    )
    urgent = _with(
        approved(URGENT, [FB], approved_at=_s(t0, 0.3), title="Khẩn: sơ tán dân ven biển Sơn Trà"),
        priority=Priority.URGENT,
    )
    normal = approved(NORMAL, [FB], approved_at=_s(t0, 0.3), title="Hội nghị thường kỳ tháng 12")
    elsewhere = _with(
        approved(ELSEWHERE, [WEB], unit=OTHER_UNIT, approved_at=_s(t0, 0.3), title="Đính chính lịch tiêm"),
        kind=ContentKind.CORRECTION,
        corrects=NORMAL,
    )
    await send(p, settings, topics.CONTENT, [correction, urgent, normal, elsewhere])
    await send(
        p,
        settings,
        topics.DELIVERY,
        [
            status(CORRECTION, *FB, S.PUBLISHING, 1, at=_s(t0, 0.4)),
            status(CORRECTION, *FB, S.PUBLISHED, 2, at=_s(t0, 1.4)),  # 1.2 s after its approval
            status(CORRECTION, *WEB, S.PUBLISHED, 2, at=_s(t0, 0.9)),  # 0.7 s
            status(URGENT, *FB, S.PUBLISHED, 2, at=_s(t0, 0.8)),  # 0.5 s
            status(NORMAL, *FB, S.PUBLISHED, 2, at=_s(t0, 0.9)),
            status(ELSEWHERE, *WEB, S.PUBLISHED, 2, at=_s(t0, 0.9)),
        ],
    )

    r = await client.post(
        "/api/v1/holds", headers=auth("operator"), json={"reason": HOLD_REASON, "unit": UNIT}
    )
    assert r.status_code == 201, r.text
    hold = r.json()
    held_at = datetime.fromisoformat(hold["held_at"])
    await send(p, settings, topics.DELIVERY, [status(WAITING, *FB, S.HELD, 3, at=_s(held_at, 0.5))])

    async def held() -> bool:
        r = await client.get("/api/v1/deliveries", params={"state": "held"}, headers=auth("viewer"))
        return bool(r.json()["total"] == 1)

    await eventually(held, what="the held delivery")
    await _until(_s(held_at, 0.5))
    r = await client.post(
        f"/api/v1/holds/{hold['id']}/release", headers=auth("operator"), json={"reason": "Đã xác minh"}
    )
    assert r.status_code == 202, r.text
    await send(p, settings, topics.DELIVERY, [status(WAITING, *FB, S.SCHEDULED, 4, at=utcnow())])

    r = await client.post(
        f"/api/v1/contents/{ORIGINAL}/retract", headers=auth("admin"), json={"reason": RETRACT_REASON}
    )
    assert r.status_code == 202, r.text

    async def retract_recorded() -> bool:
        r = await client.get(f"/api/v1/contents/{ORIGINAL}", headers=auth("viewer"))
        return r.json()["retracted_at"] is not None

    await eventually(retract_recorded, what="the retraction")
    retracted_at = datetime.fromisoformat(
        (await client.get(f"/api/v1/contents/{ORIGINAL}", headers=auth("viewer"))).json()["retracted_at"]
    )
    await send(
        p,
        settings,
        topics.DELIVERY,
        [
            status(ORIGINAL, *FB, S.RETRACTING, 4, at=_s(retracted_at, 0.1)),
            status(ORIGINAL, *FB, S.RETRACTED, 5, at=_s(retracted_at, 0.6)),  # 0.6 s
            status(ORIGINAL, *WEB, S.RETRACTED, 4, at=_s(retracted_at, 0.3)),  # 0.3 s
        ],
    )
    last = _s(retracted_at, 0.6)

    async def all_in() -> bool:
        r = await client.get(f"/api/v1/contents/{ORIGINAL}", headers=auth("viewer"))
        done = {d["state"] for d in r.json()["deliveries"]} == {"retracted"}
        r = await client.get(f"/api/v1/contents/{CORRECTION}", headers=auth("viewer"))
        return done and {d["state"] for d in r.json()["deliveries"]} == {"published"}

    await eventually(all_in, what="every status written")
    await _until(last)  # the steps' own times are in the window the incident closes on
    return Drill(hold_id=hold["id"], held_at=held_at, retracted_at=retracted_at, last=last)

"""The planning calendar on the real stack: contents and statuses through Kafka into the tracker
(SQLite and PostgreSQL), then ``/api/v1/calendar`` by Vietnam's days as an admin and a unit's viewer,
and ``POST /deliveries/{id}/reschedule`` refused (who, which state, when) and accepted: the command
on ``loa.commands.v1`` and the audit entry."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.events import (
    DEFAULT_TIMEZONE,
    ContentApproved,
    DeliveryState,
    DeliveryStatus,
    Priority,
    RescheduleDelivery,
    topics,
    utcnow,
)
from loa.events.parsing import parse_command
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    auth,
    command_records,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)

pytestmark = pytest.mark.integration
SO_Y_TE = "Sở Y tế Đà Nẵng"
VAN_PHONG = "Văn phòng Bộ"
VIEWER_SO_Y_TE = "viewer-so-y-te-token-0123456789abcdef-02"
MIDNIGHT = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
"""00:00 on 1 March 2026 in Asia/Ho_Chi_Minh (UTC+7, no daylight saving)."""
FB = ("facebook", "trang-so-y-te")
ZALO = ("zalo", "oa-so-y-te")
S = DeliveryState
FLOOD = "Họp báo về lũ ở Đà Nẵng; lịch đóng đường Nguyễn Văn Linh, Đường 2/9"


def contents_and_statuses(later: datetime) -> tuple[list[ContentApproved], list[DeliveryStatus]]:
    second, hour = timedelta(seconds=1), timedelta(hours=1)
    before = MIDNIGHT - hour  # approved
    contents = [
        approved("cuoi-thang-hai", [FB], unit=SO_Y_TE, publish_at=MIDNIGHT - second, approved_at=before,
                 title="Cuối tháng Hai: tổng kết công tác y tế"),
        approved("dau-thang-ba", [FB, ZALO], unit=SO_Y_TE, publish_at=MIDNIGHT, approved_at=before,
                 title="Đầu tháng Ba: lịch trực của Sở", priority=Priority.URGENT),
        approved("tam-dung", [FB], unit=SO_Y_TE, publish_at=MIDNIGHT + 9 * hour,
                 approved_at=before, title="Thông báo đang được xác minh lại"),
        approved("tiep-dan-bo", [("facebook", "trang-bo")], unit=VAN_PHONG, publish_at=MIDNIGHT + 2 * hour,
                 approved_at=before, title="Lịch tiếp dân của Lãnh đạo Bộ"),
        approved("hop-bao-lu", [FB], unit=SO_Y_TE, publish_at=later, title=FLOOD),
    ]  # fmt: skip
    statuses = [
        status("cuoi-thang-hai", *FB, S.PUBLISHED, 2, at=MIDNIGHT - second, due_at=MIDNIGHT - second),
        status("dau-thang-ba", *FB, S.PUBLISHED, 2, at=MIDNIGHT, due_at=MIDNIGHT),
        status("dau-thang-ba", *ZALO, S.FAILED, 2, at=MIDNIGHT + second, due_at=MIDNIGHT),
        status("tam-dung", *FB, S.HELD, 2, due_at=MIDNIGHT + 9 * hour, note="held by Trần Thị Đông: lũ"),
        status("tiep-dan-bo", "facebook", "trang-bo", S.PUBLISHED, 2, at=MIDNIGHT + 2 * hour,
               due_at=MIDNIGHT + 2 * hour),
        status("hop-bao-lu", *FB, S.SCHEDULED, 1, due_at=later),
    ]  # fmt: skip
    return contents, statuses


async def _reported(client: httpx.AsyncClient, n: int) -> bool:
    """``n`` deliveries, each with its status applied: an approval alone already lists its targets
    (as ``received``, the placeholder), so the count alone can be reached before the statuses."""
    r = await client.get("/api/v1/deliveries", headers=auth("admin"))
    body = r.json()
    return bool(body["total"] == n and all(i["state"] != "received" for i in body["items"]))


def _by_day(body: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    return {d["day"]: d["items"] for d in body["days"]}  # type: ignore[attr-defined,index]


async def test_the_calendar_by_vietnam_days_who_sees_what_and_a_reschedule(
    settings: LoaSettings, db_url: str
) -> None:
    await create_topics(settings)
    later = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    contents, statuses = contents_and_statuses(later)
    tokens = {
        **{name: {"token": token, "role": name} for name, token in TOKENS.items()},
        "xem-so-y-te": {"token": VIEWER_SO_Y_TE, "role": "viewer", "units": [SO_Y_TE]},
    }
    viewer = {"Authorization": f"Bearer {VIEWER_SO_Y_TE}"}
    edges = {"from": "2026-02-28", "to": "2026-03-02"}
    async with running_tracker(tracker_settings(settings, db_url, tracker_tokens=tokens)) as (_, client):
        async with producer(settings) as p:
            await send(p, settings, topics.CONTENT, contents)
            await send(p, settings, topics.DELIVERY, statuses)
            await eventually(lambda: _reported(client, 6), what="the statuses")

        r = await client.get("/api/v1/calendar", params=edges, headers=auth("admin"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["first"], body["end"], body["timezone"]) == (
            "2026-02-28",
            "2026-03-02",
            "Asia/Ho_Chi_Minh",
        )
        days = _by_day(body)
        assert list(days) == ["2026-02-28", "2026-03-01"]
        # 16:59:59 UTC is 23:59:59 on 28 February in Vietnam; 17:00 UTC is already 1 March
        assert [(i["content_id"], i["local_time"]) for i in days["2026-02-28"]] == [
            ("cuoi-thang-hai", "23:59")
        ]
        first = {(i["content_id"], i["channel"]): i for i in days["2026-03-01"]}
        assert list(first) == [
            ("dau-thang-ba", "facebook"),
            ("dau-thang-ba", "zalo"),
            ("tiep-dan-bo", "facebook"),
            ("tam-dung", "facebook"),
        ]
        urgent = first[("dau-thang-ba", "facebook")]
        assert (urgent["local_time"], urgent["priority"], urgent["state"]) == ("00:00", "urgent", "published")
        assert urgent["title"] == unicodedata.normalize("NFC", "Đầu tháng Ba: lịch trực của Sở")
        assert first[("dau-thang-ba", "zalo")]["state"] == "failed"
        held = first[("tam-dung", "facebook")]
        assert (held["held"], held["movable"], held["local_time"]) == (True, False, "09:00")
        assert not any(i["movable"] for i in first.values())

        zalo = await client.get(
            "/api/v1/calendar", params={**edges, "channel": "zalo"}, headers=auth("admin")
        )
        assert [i["channel"] for d in zalo.json()["days"] for i in d["items"]] == ["zalo"]

        # a unit's viewer: its unit only; another unit's calendar is refused, naming the unit
        own = await client.get("/api/v1/calendar", params=edges, headers=viewer)
        assert {i["unit"] for d in own.json()["days"] for i in d["items"]} == {SO_Y_TE}
        other = await client.get("/api/v1/calendar", params={**edges, "unit": VAN_PHONG}, headers=viewer)
        assert other.status_code == 403 and VAN_PHONG in other.json()["error"]["message"]

        # ranges refused, naming the parameter
        for params, field in (
            ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
            ({"from": "2026-01-01", "to": "2026-03-01"}, "to"),
            ({"from": "2026-03-01"}, "to"),
        ):
            bad = await client.get("/api/v1/calendar", params=params, headers=auth("admin"))
            assert bad.status_code == 422, bad.text
            assert field in json.dumps(bad.json()["error"]), bad.text

        # the scheduled one, two days ahead: on its Vietnamese day, movable
        ahead = later.astimezone(DEFAULT_TIMEZONE).date()
        week = {"from": ahead.isoformat(), "to": (ahead + timedelta(days=1)).isoformat()}
        [scheduled] = _by_day((await client.get("/api/v1/calendar", params=week, headers=viewer)).json())[
            ahead.isoformat()
        ]
        assert (scheduled["title"], scheduled["movable"], scheduled["held"]) == (FLOOD, True, False)

        url = "/api/v1/deliveries/{}/reschedule"
        new_time = later + timedelta(days=1, hours=2)
        move = {"at": new_time.isoformat(), "reason": "Lùi họp báo sang chiều thứ Sáu"}
        refused = await client.post(url.format(scheduled["delivery_id"]), json=move, headers=viewer)
        assert refused.status_code == 403 and "hold" in refused.json()["error"]["message"]
        published = await client.post(url.format(urgent["delivery_id"]), json=move, headers=auth("operator"))
        assert published.status_code == 409 and "is published" in published.json()["error"]["message"]
        on_hold = await client.post(url.format(held["delivery_id"]), json=move, headers=auth("operator"))
        assert on_hold.status_code == 409 and "is held" in on_hold.json()["error"]["message"]
        past = {"at": (utcnow() - timedelta(minutes=5)).isoformat()}
        passed = await client.post(url.format(scheduled["delivery_id"]), json=past, headers=auth("operator"))
        assert passed.status_code == 422 and "at" in json.dumps(passed.json()["error"])
        naive = {"at": "2026-12-24T09:00:00"}
        no_zone = await client.post(
            url.format(scheduled["delivery_id"]), json=naive, headers=auth("operator")
        )
        assert no_zone.status_code == 422

        accepted = await client.post(
            url.format(scheduled["delivery_id"]), json=move, headers=auth("operator")
        )
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["type"] == "delivery.reschedule"
        audit = await client.get("/api/v1/audit", params={"action": "reschedule"}, headers=auth("admin"))
        [entry] = audit.json()["items"]
        local = new_time.astimezone(DEFAULT_TIMEZONE).strftime("%Y-%m-%d %H:%M")
        assert (entry["actor"], entry["unit"], entry["reason"]) == ("operator", SO_Y_TE, move["reason"])
        assert f"→ {local} (Asia/Ho_Chi_Minh)" in entry["detail"]

    commands = [parse_command(value) for _, value in await command_records(settings)]
    [sent] = [c for c in commands if isinstance(c, RescheduleDelivery)]
    assert (sent.payload.content_id, sent.payload.channel, sent.at) == ("hop-bao-lu", "facebook", new_time)
    assert sent.payload.requested_by == "tracker:operator"
    assert len(commands) == 1, "nothing is sent for a refused reschedule"

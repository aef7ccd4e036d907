"""Urgent contents and their deliveries are marked "Khẩn" in the tracker's API and dashboard."""

from __future__ import annotations

import pytest

from loa.events import DeliveryState as S
from loa.events import ErrorClass, Priority, topics
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

URGENT_TITLE = "KHẨN: Cảnh báo lũ quét tại Đắk Lắk, người dân không qua ngầm tràn"


async def test_urgent_contents_and_deliveries_are_marked_khan(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        urgent = approved("canh-bao-lu", title=URGENT_TITLE, priority=Priority.URGENT)
        await send(p, settings, topics.CONTENT, [urgent, approved("lich-tiep-dan")])
        failed = status(
            "canh-bao-lu", "facebook", "so-ttt-da-nang", S.FAILED, 2, error=(ErrorClass.TRANSIENT, "2", "…")
        )
        await send(p, settings, topics.DELIVERY, [failed])

        async def both_known() -> bool:
            r = await client.get("/api/v1/contents", headers=auth("viewer"))
            return bool(r.json()["total"] == 2)

        await eventually(both_known, what="both contents")
        listed = (await client.get("/api/v1/contents", headers=auth("viewer"))).json()["items"]
        assert {c["id"]: c["priority"] for c in listed} == {
            "canh-bao-lu": "urgent",
            "lich-tiep-dan": "normal",
        }
        detail = (await client.get("/api/v1/contents/canh-bao-lu", headers=auth("viewer"))).json()
        assert detail["priority"] == "urgent"
        assert {d["priority"] for d in detail["deliveries"]} == {"urgent"}

        page = (await client.get("/contents/canh-bao-lu", headers=auth("viewer"))).text
        assert '<span class="badge urgent"' in page and ">Khẩn</span>" in page
        overview = (await client.get("/", headers=auth("viewer"))).text
        assert overview.count('class="badge urgent"') == 2  # its failed delivery, and the content in the list
        normal = (await client.get("/contents/lich-tiep-dan", headers=auth("viewer"))).text
        assert 'class="badge urgent"' not in normal

"""The tracker learns which content a correction corrects from the content events it consumes, and
shows both ways: "Đính chính cho …" on the correction, "Đã được đính chính bởi …" with the
correction's deliveries on the original; another unit's correction stays hidden from a viewer."""

from __future__ import annotations

import uuid

import pytest

from loa.events import ContentApproved, ContentKind, DeliveryState
from loa.settings import LoaSettings
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.queries import get_content
from tests.integration.tracker.support import approved, auth, running_tracker, status, tracker_settings

pytestmark = pytest.mark.integration

ORIGINAL_TITLE = "Đà Nẵng giải ngân 15.200 tỷ đồng vốn đầu tư công trong 11 tháng"
CORRECTION_TITLE = "Đính chính số liệu giải ngân vốn đầu tư công của Đà Nẵng"


def correction_of(original: str, correction: str, unit: str | None = None) -> ContentApproved:
    event = approved(
        correction, [("website", "main"), ("facebook", "so-ttt-da-nang")], title=CORRECTION_TITLE
    )
    changes = {"kind": ContentKind.CORRECTION, "corrects": original} | ({"unit": unit} if unit else {})
    return event.model_copy(update={"payload": event.payload.model_copy(update=changes)})


async def test_both_contents_show_the_link_and_the_correction_deliveries(
    settings: LoaSettings, sqlite_url: str
) -> None:
    original, correction = f"tin-{uuid.uuid4().hex[:8]}", f"dinh-chinh-{uuid.uuid4().hex[:8]}"
    other_unit = f"dinh-chinh-khac-{uuid.uuid4().hex[:6]}"
    async with running_tracker(tracker_settings(settings, sqlite_url, tracker_consume=False)) as (
        app,
        client,
    ):
        engine = app.state.tracker.engine
        await apply_content_events(
            engine,
            [
                approved(original, title=ORIGINAL_TITLE),
                correction_of(original, correction),
                correction_of(original, other_unit, unit="Vụ Pháp chế"),
            ],
        )
        await apply_statuses(engine, [status(correction, "website", "main", DeliveryState.PUBLISHED, 1)])

        shown = (await client.get(f"/api/v1/contents/{original}", headers=auth("viewer"))).json()
        by_id = {k["id"]: k for k in shown["corrected_by"]}
        assert shown["corrects"] is None and set(by_id) == {correction, other_unit}
        states = {(d["channel"], d["state"]) for d in by_id[correction]["deliveries"]}
        assert states == {("website", "published"), ("facebook", "received")}
        assert by_id[correction]["title"] == CORRECTION_TITLE

        back = (await client.get(f"/api/v1/contents/{correction}", headers=auth("viewer"))).json()
        assert back["corrects"]["id"] == original and back["corrects"]["title"] == ORIGINAL_TITLE
        assert back["kind"] == "correction"

        page = (await client.get(f"/contents/{original}", headers=auth("viewer"))).text
        assert "Đã được đính chính bởi" in page and f'href="/contents/{correction}"' in page
        page = (await client.get(f"/contents/{correction}", headers=auth("viewer"))).text
        assert "Đính chính cho" in page and f'href="/contents/{original}"' in page

        # A reader of the original's unit alone does not see the other unit's correction.
        mine = await get_content(engine, original, frozenset({approved(original).payload.unit}))
        assert mine is not None and [k.id for k in mine.corrected_by] == [correction]


async def test_a_correction_of_an_unknown_content_names_it(settings: LoaSettings, sqlite_url: str) -> None:
    correction = f"dinh-chinh-{uuid.uuid4().hex[:8]}"
    async with running_tracker(tracker_settings(settings, sqlite_url, tracker_consume=False)) as (
        app,
        client,
    ):
        await apply_content_events(app.state.tracker.engine, [correction_of("tin-chua-biet", correction)])
        shown = (await client.get(f"/api/v1/contents/{correction}", headers=auth("viewer"))).json()
        assert shown["corrects"] == {
            "id": "tin-chua-biet",
            "title": None,
            "approved_at": None,
            "retracted_at": None,
            "deliveries": [],
        }

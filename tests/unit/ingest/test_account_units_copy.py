"""The ingest's copy of the tracker's accounts table: the table wins over ``LOA_ACCOUNT_UNITS``,
which answers only for accounts the table does not list; a tracker that stops answering is served
from the last copy, and with no copy a submission is refused (503), never checked against nothing.

The tracker here is a stand-in (httpx MockTransport) answering ``GET /api/v1/account-units``;
tests/security/test_account_units.py runs the real one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.ingest.account_units import AccountUnits
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings

pytestmark = pytest.mark.unit
OWN, OTHER = "Vụ Truyền thông và Báo chí", "Vụ Pháp chế"


class Tracker:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = [{"channel": "website", "name": "trang-bo", "unit": OTHER}]
        self.up = True
        self.tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(request.headers["authorization"])
        if not self.up:
            return httpx.Response(503, json={"error": {"code": "unavailable"}})
        return httpx.Response(200, json=self.rows)


def _units(tracker: Tracker) -> AccountUnits:
    settings = IngestSettings(
        mode="development",
        account_units={"website/trang-bo": OWN, "website/trang-cu": OWN},
        ingest_tracker_url="http://127.0.0.1:8081",
        ingest_tracker_token=SecretStr("loa_sa_" + "x" * 43),
        ingest_account_units_ttl_s=0,
    )
    return AccountUnits(settings, httpx.AsyncClient(transport=httpx.MockTransport(tracker)))


async def test_the_table_wins_and_the_setting_answers_only_for_accounts_it_does_not_list() -> None:
    tracker = Tracker()
    units = _units(tracker)
    assert await units.unit_of("website", "trang-bo") == OTHER
    assert await units.unit_of("website", "trang-cu") == OWN  # added before the accounts API
    assert await units.unit_of("website", "trang-khac") is None
    assert tracker.tokens[0] == "Bearer loa_sa_" + "x" * 43


async def test_a_tracker_that_stops_answering_is_served_from_the_last_copy() -> None:
    tracker = Tracker()
    units = _units(tracker)
    assert await units.unit_of("website", "trang-bo") == OTHER
    tracker.up = False
    assert await units.unit_of("website", "trang-bo") == OTHER


async def test_with_no_copy_a_submission_is_refused_rather_than_checked_against_nothing() -> None:
    tracker = Tracker()
    tracker.up = False
    with pytest.raises(ApiError) as refused:
        await _units(tracker).unit_of("website", "trang-bo")
    assert (refused.value.status, refused.value.code) == (503, "account_units_unavailable")


def test_a_tracker_url_needs_its_token() -> None:
    with pytest.raises(ValueError, match="LOA_INGEST_TRACKER_TOKEN"):
        IngestSettings(mode="development", ingest_tracker_url="http://127.0.0.1:8081")

"""Retraction is one fact (#16 item 6): a content retracted in the tracker or in the ingest is
retracted for both, and the ingest refuses a new version of it (409 naming who and when).

Before, the tracker's retraction never reached the ingest, which accepted a v2 of the retracted
content and published its new targets. Real Kafka, the real tracker and ingest services.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.ingest.conftest import LiveIngest
from tests.integration.tracker.support import auth, create_topics, running_tracker, tracker_settings
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

REASON = "Thông tin chưa được Bộ trưởng phê duyệt; gỡ theo chỉ đạo của Đảng ủy"
WAIT_S = 30.0


async def _submit(
    client: httpx.AsyncClient, live: LiveIngest, content_id: str, version: int
) -> httpx.Response:
    payload: dict[str, Any] = submitted_payload(content_id, version)
    payload["title"] = f"Đính chính lần {version}: Điều chỉnh kế hoạch chuyển đổi số"
    return await client.post("/api/v1/contents", json={"payload": payload}, headers=live.auth(live.publisher))


async def _eventually(check: Any) -> Any:
    """``check()`` until it returns something, within ``WAIT_S`` (Kafka carries the fact)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        if (found := await check()) is not None:
            return found
        assert asyncio.get_running_loop().time() < deadline, "not seen in time"
        await asyncio.sleep(0.3)


@contextlib.asynccontextmanager
async def _published_v1(
    live: LiveIngest, sqlite_url: str, content_id: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A tracker on the ingest's topics, clients of both, and v1 of ``content_id`` accepted."""
    await create_topics(live.settings)
    async with (
        running_tracker(tracker_settings(live.settings, sqlite_url)) as (_, tracker),
        httpx.AsyncClient(base_url=live.url, timeout=30) as ingest,
    ):
        assert (await _submit(ingest, live, content_id, 1)).status_code == 202
        yield tracker, ingest


async def test_a_retraction_in_the_tracker_makes_the_ingest_refuse_a_new_version(
    live_ingest: LiveIngest, sqlite_url: str
) -> None:
    live = live_ingest
    content_id = "tcbc-go-tu-tracker"
    async with _published_v1(live, sqlite_url, content_id) as (tracker, ingest):

        async def known() -> bool | None:
            response = await tracker.get(f"/api/v1/contents/{content_id}", headers=auth("viewer"))
            return True if response.status_code == 200 else None

        await _eventually(known)
        retracted = await tracker.post(
            f"/api/v1/contents/{content_id}/retract", json={"reason": REASON}, headers=auth("admin")
        )
        assert retracted.status_code == 202, retracted.text

        async def recorded() -> bool | None:
            """v1 again changes nothing: ``version_conflict`` until the ingest knows, then ``retracted``."""
            answer = await _submit(ingest, live, content_id, 1)
            assert answer.status_code == 409, answer.text
            return True if answer.json()["error"]["code"] == "retracted" else None

        await _eventually(recorded)
        answer = await _submit(ingest, live, content_id, 2)
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "retracted"
    assert content_id in error["message"]
    assert "by tracker:admin" in error["message"]
    assert " at 20" in error["message"]  # when, as an ISO instant
    assert error["fields"][0]["field"] == "payload.id"


async def test_a_retraction_in_the_ingest_is_refused_at_once_and_seen_by_the_tracker(
    live_ingest: LiveIngest, sqlite_url: str
) -> None:
    live = live_ingest
    content_id = "tcbc-go-tu-ingest"
    async with _published_v1(live, sqlite_url, content_id) as (tracker, ingest):
        retract = await ingest.post(
            f"/api/v1/contents/{content_id}/retract", json={"reason": REASON}, headers=live.auth(live.admin)
        )
        assert retract.status_code == 202, retract.text
        answer = await _submit(ingest, live, content_id, 2)  # at once: recorded with the request
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "retracted"
        assert "by admin" in answer.json()["error"]["message"]
        again = await ingest.post(
            f"/api/v1/contents/{content_id}/retract", json={"reason": REASON}, headers=live.auth(live.admin)
        )
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_retracted")

        async def shown() -> dict[str, Any] | None:
            response = await tracker.get(f"/api/v1/contents/{content_id}", headers=auth("viewer"))
            body: dict[str, Any] = response.json() if response.status_code == 200 else {}
            return body if body.get("retracted_at") else None

        detail = await _eventually(shown)
    assert detail["retracted_by"] == "admin"
    assert detail["retract_reason"] == REASON

"""Issue #25 point 4 at the ingest API: a first publication dated long before now is refused with
``publish_at_in_past`` naming ``payload.publish_at``, and nothing reaches Kafka; minutes old is fine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from loa.events import ContentApproved, parse_content_event, topics
from tests.integration.ingest.conftest import LiveIngest
from tests.support.kafka import read_topic
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

YEARS_AGO = datetime(2020, 1, 15, 9, 0, tzinfo=UTC)


def submission(content_id: str, publish_at: datetime, **over: Any) -> dict[str, Any]:
    payload = submitted_payload(content_id) | {
        "title": "Đồng Nai: thông báo lịch tiếp công dân tháng 12",
        "publish_at": publish_at.isoformat(),
    }
    return {"payload": payload | over}


async def test_publish_at_years_back_is_refused_and_minutes_back_accepted(live_ingest: LiveIngest) -> None:
    live = live_ingest
    async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=live.auth(live.publisher)) as client:
        refused = await client.post("/api/v1/contents", json=submission("tb-2020", YEARS_AGO))
        # Approved "in 2020" too: the ingest compares with now, not with what the client claims.
        also = submission("tb-2020-b", YEARS_AGO, approved_at=(YEARS_AGO - timedelta(hours=1)).isoformat())
        refused_too = await client.post("/api/v1/contents", json=also)
        fresh = await client.post(
            "/api/v1/contents", json=submission("tb-vua-duyet", datetime.now(UTC) - timedelta(minutes=5))
        )
        on_purpose = await client.post(
            "/api/v1/contents", json=submission("tb-luu-tru", YEARS_AGO, backdated=True)
        )

    for answer in (refused, refused_too):
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "publish_at_in_past"
        assert error["message"].startswith("publish_at 2020-01-15T09:00:00+00:00 is ")
        assert "\n" not in error["message"]
        assert [f["field"] for f in error["fields"]] == ["payload.publish_at"]
    assert fresh.status_code == 202, fresh.text
    assert on_purpose.status_code == 202, on_purpose.text

    records = await read_topic(live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 2)
    events = [parse_content_event(r.value) for r in records]
    assert sorted(e.payload.id for e in events) == ["tb-luu-tru", "tb-vua-duyet"]
    assert all(isinstance(e, ContentApproved) for e in events)

"""Issue #25 point 4: a first publication dated years back (2020) went out at once with a
``/2020/01/...`` URL. A consumer compares ``publish_at`` with the event's own ``approved_at`` (the
same answer on every replay, however late it is read); the ingest API compares with now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from loa.events import ContentApproved, ContentUpdated, parse_content_event
from loa.events.content import PUBLISH_AT_PAST_TOLERANCE
from loa.kafka import describe_validation_error
from tests.support.payloads import valid_payload

pytestmark = pytest.mark.unit

APPROVED = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def payload(publish_at: datetime, **over: Any) -> dict[str, Any]:
    return (
        valid_payload("tb-dong-nai-2026")
        | {
            "title": "Đồng Nai: thông báo lịch tiếp công dân tháng 12",
            "approved_at": APPROVED.isoformat(),
            "publish_at": publish_at.isoformat(),
        }
        | over
    )


def test_a_publish_at_years_before_its_approval_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ContentApproved.model_validate({"payload": payload(datetime(2020, 1, 15, 9, 0, tzinfo=UTC))})
    reason = describe_validation_error(caught.value)
    assert "publish_at 2020-01-15T09:00:00+00:00" in reason
    assert "before approved_at" in reason
    assert "backdated: true" in reason  # says how to mean it


def test_a_publish_at_a_few_minutes_before_approval_is_normal() -> None:
    for minutes in (1, 10, 59):
        event = ContentApproved.model_validate({"payload": payload(APPROVED - timedelta(minutes=minutes))})
        assert event.payload.publish_at == APPROVED - timedelta(minutes=minutes)
    just_over = APPROVED - PUBLISH_AT_PAST_TOLERANCE - timedelta(seconds=1)
    with pytest.raises(ValidationError):
        ContentApproved.model_validate({"payload": payload(just_over)})


def test_backdating_on_purpose_takes_an_explicit_flag() -> None:
    old = datetime(2020, 1, 15, 9, 0, tzinfo=UTC)
    event = ContentApproved.model_validate({"payload": payload(old, backdated=True)})
    assert event.payload.backdated
    assert event.payload.publish_at == old


def test_the_answer_does_not_depend_on_when_the_event_is_read() -> None:
    """Approved in 2020 for an hour later, replayed from Kafka today: still the same valid event."""
    approved_2020 = datetime(2020, 1, 15, 8, 0, tzinfo=UTC)
    raw = ContentApproved.model_validate(
        {"payload": payload(approved_2020 + timedelta(hours=1), approved_at=approved_2020.isoformat())}
    ).model_dump_json()
    assert isinstance(parse_content_event(raw), ContentApproved)


def test_an_update_keeps_its_original_publish_at_however_old() -> None:
    published_long_ago = APPROVED - timedelta(days=400)
    event = ContentUpdated.model_validate({"payload": payload(published_long_ago, version=2)})
    assert event.payload.publish_at == published_long_ago

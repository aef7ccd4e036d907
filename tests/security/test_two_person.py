"""The two-person rule: an editor's content for a ruled unit waits, off Kafka, until a spokesperson
of the unit approves it (then ``approved_by`` is the spokesperson) or rejects it with a reason."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loa.access.principal import Role
from loa.events import ContentApproved, parse_content_event, topics
from loa.settings import LoaSettings
from tests.conftest import Stack
from tests.security.access_support import ACCOUNT_OF, MINISTRY, OTHER, OWN, Stage, stage
from tests.support.kafka import read_topic
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration
CLAIM = "Phó Vụ trưởng Nguyễn Đức Hải"


@pytest.fixture
def ruled(stack: Stack, tmp_path: Path) -> Iterator[Stage]:
    base = LoaSettings(kafka_bootstrap=stack.kafka_bootstrap, topic_prefix=f"t-{uuid.uuid4().hex[:8]}.")
    with stage(stack, base, tmp_path, two_person_units=[MINISTRY]) as s:  # the ministry and below
        yield s


def _submit(s: Stage, role: Role, unit: str = OWN) -> httpx.Response:
    payload = submitted_payload(f"tp-{uuid.uuid4().hex[:10]}") | {"approver_claim": CLAIM}
    payload |= {"unit": unit, "targets": [{"channel": "website", "account": ACCOUNT_OF[unit]}]}
    return httpx.post(
        f"{s.ingest}/api/v1/contents", json={"payload": payload}, headers=s.auth(role), timeout=30
    )


def _awaiting(s: Stage, role: Role) -> list[dict[str, object]]:
    items: list[dict[str, object]] = httpx.get(
        f"{s.ingest}/api/v1/awaiting", headers=s.auth(role), timeout=30
    ).json()["items"]
    return items


def test_an_editor_content_waits_until_a_spokesperson_of_its_unit_approves(ruled: Stage) -> None:
    s = ruled
    held = _submit(s, Role.EDITOR)
    assert held.status_code == 202, held.text
    assert held.json()["status"] == "awaiting_approval"
    cid = held.json()["id"]
    assert [i["id"] for i in _awaiting(s, Role.VIEWER)] == [cid]
    approve = f"{s.ingest}{held.json()['approve_url']}"
    by_editor = httpx.post(approve, headers=s.auth(Role.EDITOR), timeout=30)
    assert by_editor.status_code == 403  # an editor may not approve, least of all its own
    approved = httpx.post(approve, headers=s.auth(Role.SPOKESPERSON), timeout=30)
    assert approved.status_code == 202, approved.text
    assert approved.json()["type"] == "content.approved"
    assert httpx.post(approve, headers=s.auth(Role.SPOKESPERSON), timeout=30).status_code == 409
    records = asyncio.run(
        read_topic(s.ingest_settings.kafka_bootstrap, s.ingest_settings.topic(topics.CONTENT), 1)
    )
    event = parse_content_event(records[0].value)
    assert isinstance(event, ContentApproved)
    assert (event.payload.id, event.payload.approved_by, event.payload.approver_claim) == (
        cid,
        "sa-spokesperson",
        CLAIM,
    )
    assert _awaiting(s, Role.VIEWER) == []


def test_a_rejection_needs_a_reason_and_sends_nothing(ruled: Stage) -> None:
    s = ruled
    held = _submit(s, Role.EDITOR).json()
    url = f"{s.ingest}/api/v1/contents/{held['id']}/versions/{held['version']}/reject"
    no_reason = httpx.post(url, json={}, headers=s.auth(Role.SPOKESPERSON), timeout=30)
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["fields"][0]["field"] == "body.reason"
    rejected = httpx.post(
        url,
        json={"reason": "Số liệu chưa khớp với báo cáo quý"},
        headers=s.auth(Role.SPOKESPERSON),
        timeout=30,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert _awaiting(s, Role.ADMIN) == []


def test_a_spokesperson_or_admin_content_goes_at_once_and_a_viewer_sees_only_its_units_waiting(
    ruled: Stage,
) -> None:
    s = ruled
    direct = _submit(s, Role.SPOKESPERSON)
    assert direct.status_code == 202 and direct.json()["status"] == "queued"
    held = _submit(s, Role.ADMIN, OTHER)  # an admin may approve anywhere: nothing waits
    assert held.json()["status"] == "queued"
    waiting = _submit(s, Role.EDITOR).json()
    assert waiting["status"] == "awaiting_approval"
    other_unit_view = [i["unit"] for i in _awaiting(s, Role.VIEWER)]
    assert other_unit_view == [OWN]

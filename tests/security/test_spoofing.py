"""The spoofing cases of issue #16, each refused now, and service accounts' tokens revoked and
expired: on a real ingest and tracker (Kafka, MinIO, the shared token table)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from loa.access.principal import Grant, Role
from loa.access.tokens import TokenStore
from loa.events import ContentApproved, parse_content_event, topics
from loa.settings import LoaSettings
from services.tracker.db import make_engine
from services.tracker.ingest import apply_content_events
from tests.conftest import Stack
from tests.integration.tracker.support import approved
from tests.security.access_support import ACCOUNT_OF, OTHER, OWN, Stage, seed_tracker, stage
from tests.support.kafka import read_topic
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration
SPOOFED = "Bộ trưởng (spoofed)"


@pytest.fixture
def access_stage(stack: Stack, tmp_path: Any) -> Iterator[Stage]:
    base = LoaSettings(kafka_bootstrap=stack.kafka_bootstrap, topic_prefix=f"t-{uuid.uuid4().hex[:8]}.")
    with stage(stack, base, tmp_path) as s:
        yield s


def _payload(
    unit: str = OWN, account_unit: str = OWN, cid: str | None = None, version: int = 1
) -> dict[str, Any]:
    payload = submitted_payload(cid or f"sp-{uuid.uuid4().hex[:10]}", version)
    return payload | {"unit": unit, "targets": [{"channel": "website", "account": ACCOUNT_OF[account_unit]}]}


def _submit(s: Stage, headers: dict[str, str], payload: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{s.ingest}/api/v1/contents", json={"payload": payload}, headers=headers, timeout=30)


def _issue(
    s: Stage, name: str, role: Role, unit: str, lifetime: timedelta = timedelta(days=1)
) -> tuple[str, str]:
    async def go() -> tuple[str, str]:
        store = TokenStore.at(str(s.ingest_settings.tokens_database_url))
        try:
            row, token = await store.issue(name, frozenset({Grant(role, unit)}), "test", lifetime)
            return row.id, token
        finally:
            await store.close()

    return asyncio.run(go())


def test_a_typed_approved_by_is_refused_and_the_claim_travels_labelled(access_stage: Stage) -> None:
    s = access_stage
    spoofed = _submit(s, s.auth(Role.EDITOR), _payload() | {"approved_by": SPOOFED})
    assert spoofed.status_code == 422, spoofed.text
    assert spoofed.json()["error"]["fields"][0]["field"] == "payload.approved_by"
    claimed = _submit(s, s.auth(Role.EDITOR), _payload() | {"approver_claim": SPOOFED})
    assert claimed.status_code == 202, claimed.text
    records = asyncio.run(
        read_topic(s.ingest_settings.kafka_bootstrap, s.ingest_settings.topic(topics.CONTENT), 1)
    )
    event = parse_content_event(records[0].value)
    assert isinstance(event, ContentApproved)
    assert (event.payload.approved_by, event.payload.approver_claim) == ("sa-editor", SPOOFED)


def test_client_b_cannot_update_client_a_content_but_a_spokesperson_of_its_unit_can(
    access_stage: Stage,
) -> None:
    s = access_stage
    _, token_b = _issue(s, "cms-b", Role.EDITOR, OWN)
    cid = f"sp-{uuid.uuid4().hex[:10]}"
    assert _submit(s, s.auth(Role.EDITOR), _payload(cid=cid)).status_code == 202
    by_b = _submit(s, {"Authorization": f"Bearer {token_b}"}, _payload(cid=cid, version=2))
    assert by_b.status_code == 403, by_b.text
    error = by_b.json()["error"]
    assert error["code"] == "not_your_content"
    assert "submitted by sa-editor" in error["message"]
    assert error["fields"][0]["field"] == "payload.id"
    assert _submit(s, s.auth(Role.EDITOR), _payload(cid=cid, version=2)).status_code == 202
    assert _submit(s, s.auth(Role.SPOKESPERSON), _payload(cid=cid, version=3)).status_code == 202


def test_publishing_to_another_unit_account_is_refused_naming_the_target(access_stage: Stage) -> None:
    s = access_stage
    answer = _submit(s, s.auth(Role.EDITOR), _payload(unit=OWN, account_unit=OTHER))
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "account_of_another_unit"
    assert error["fields"][0]["field"] == "payload.targets.0.account"
    assert OTHER in error["fields"][0]["reason"]
    other_unit = _submit(s, s.auth(Role.EDITOR), _payload(unit=OTHER, account_unit=OTHER))
    assert other_unit.status_code == 403
    assert other_unit.json()["error"]["fields"][0]["field"] == "payload.unit"


def test_a_tracker_operator_may_not_retract_a_spokesperson_of_the_unit_may(access_stage: Stage) -> None:
    s = access_stage
    cid = asyncio.run(seed_tracker(s.tracker_db, OWN))
    url = f"{s.tracker}/api/v1/contents/{cid}/retract"
    body = {"reason": "Thông tin chưa được kiểm chứng"}
    refused = httpx.post(url, json=body, headers=s.auth(Role.OPERATOR), timeout=30)
    assert refused.status_code == 403
    assert "may not retract" in refused.json()["error"]["message"]
    assert httpx.post(url, json=body, headers=s.auth(Role.SPOKESPERSON), timeout=30).status_code == 202


def test_a_viewer_sees_only_its_unit(access_stage: Stage) -> None:
    s = access_stage
    own = asyncio.run(seed_tracker(s.tracker_db, OWN))
    other = asyncio.run(seed_tracker(s.tracker_db, OTHER))
    for path in ("/api/v1/contents", "/api/v1/deliveries"):
        seen = httpx.get(f"{s.tracker}{path}", headers=s.auth(Role.VIEWER), timeout=30).json()["items"]
        ids = {i.get("content_id", i["id"]) for i in seen}
        assert own in ids and other not in ids, path
    stats = httpx.get(f"{s.tracker}/api/v1/stats", headers=s.auth(Role.VIEWER), timeout=30).json()
    assert [g["key"] for g in stats["by_unit"]] == [OWN]
    exported = httpx.get(
        f"{s.tracker}/api/v1/deliveries", params={"format": "csv"}, headers=s.auth(Role.VIEWER), timeout=30
    )
    assert exported.status_code == 200 and own in exported.text and other not in exported.text
    everything = httpx.get(f"{s.tracker}/api/v1/contents", headers=s.auth(Role.OPERATOR), timeout=30).json()
    assert {own, other} <= {i["id"] for i in everything["items"]}


def test_a_revoked_or_expired_token_is_refused_and_the_table_keeps_no_token(access_stage: Stage) -> None:
    s = access_stage
    token_id, token = _issue(s, "ci-deploy", Role.EDITOR, OWN)
    headers = {"Authorization": f"Bearer {token}"}
    assert _submit(s, headers, _payload()).status_code == 202

    async def revoke_and_read() -> str:
        store = TokenStore.at(str(s.ingest_settings.tokens_database_url))
        try:
            assert await store.revoke(token_id, "test")
            async with store.engine.connect() as conn:
                rows = await conn.exec_driver_sql("SELECT * FROM service_tokens")
                return repr(rows.all())
        finally:
            await store.close()

    table = asyncio.run(revoke_and_read())
    assert token not in table and token[7:] not in table
    assert _submit(s, headers, _payload()).status_code == 401
    _, expired = _issue(s, "ci-old", Role.EDITOR, OWN, lifetime=timedelta(microseconds=1))
    answer = _submit(s, {"Authorization": f"Bearer {expired}"}, _payload())
    assert answer.status_code == 401
    assert expired not in answer.text


def test_the_tracker_shows_the_claim_apart_from_who_approved(access_stage: Stage) -> None:
    s = access_stage
    event = approved(f"tin-{uuid.uuid4().hex[:8]}", [("website", ACCOUNT_OF[OWN])], unit=OWN)
    event = event.model_copy(
        update={
            "payload": event.payload.model_copy(
                update={"approved_by": "sa-editor", "approver_claim": SPOOFED}
            )
        }
    )

    async def record() -> None:
        engine = make_engine(s.tracker_db)
        await apply_content_events(engine, [event])
        await engine.dispose()

    asyncio.run(record())
    url = f"{s.tracker}/api/v1/contents/{event.payload.id}"
    detail = httpx.get(url, headers=s.auth(Role.VIEWER), timeout=30).json()
    assert (detail["approved_by"], detail["approver_claim"]) == ("sa-editor", SPOOFED)
    page = httpx.get(f"{s.tracker}/contents/{event.payload.id}", headers=s.auth(Role.VIEWER), timeout=30)
    assert "Người duyệt theo hệ thống gửi (chưa xác minh)" in page.text
    assert SPOOFED in page.text

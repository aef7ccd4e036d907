"""Corrections ("Đính chính", #17 item 2) at the ingest: only a spokesperson (or an admin) of the
units involved publishes one, and ``corrects`` must name a content the ingest accepted and nobody
retracted; an accepted correction is audited as a submission naming what it corrects.

A live ingest on the real stack (MinIO, Kafka for the relay, its own SQLite store)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from loa.access.principal import Role
from services.ingest.app import create_app
from services.ingest.settings import ClientToken
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

OWN = "Vụ Truyền thông và Báo chí"
OTHER = "Vụ Pháp chế"
ACCOUNTS = {OWN: "trang-truyen-thong", OTHER: "trang-phap-che"}
ROLES = {"editor": OWN, "spokesperson": OWN, "spokesperson_other": OTHER}


class Stage:
    def __init__(self, url: str, tokens: dict[str, str], db: Path) -> None:
        self.url, self.tokens, self.db = url, tokens, db

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def audit_rows(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db) as conn:
            rows = conn.execute("SELECT topic, payload FROM ingest_outbox ORDER BY id").fetchall()
        return [json.loads(p)["payload"] for t, p in rows if t.endswith("loa.audit.v1")]


@pytest.fixture(scope="module")
def stage(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    tmp = tmp_path_factory.mktemp("corrections")
    settings, tokens = ingest_settings(stack, tmp)
    extra = {name: f"{name}-{uuid.uuid4().hex}" for name in ROLES}
    clients = {
        name: ClientToken(token=SecretStr(extra[name]), role=Role(name.removesuffix("_other")), units=(unit,))
        for name, unit in ROLES.items()
    }
    settings = settings.model_copy(
        update={
            "ingest_tokens": {**settings.ingest_tokens, **clients},
            "account_units": {f"website/{a}": unit for unit, a in ACCOUNTS.items()},
        }
    )
    with serve(create_app(settings)) as url:
        yield Stage(url, {**tokens, **extra}, tmp / "ingest.db")


def _content(unit: str = OWN, **changes: Any) -> dict[str, Any]:
    payload = submitted_payload(f"tin-{uuid.uuid4().hex[:10]}")
    payload |= {"unit": unit, "targets": [{"channel": "website", "account": ACCOUNTS[unit]}]}
    return payload | changes


def _correction(corrects: str, unit: str = OWN) -> dict[str, Any]:
    return _content(
        unit,
        kind="correction",
        corrects=corrects,
        title="Đính chính: số liệu giải ngân vốn đầu tư công của Đà Nẵng",
        summary="Số đúng là 12.500 tỷ đồng, không phải 15.200 tỷ đồng như đã đăng.",
    )


def _post(stage: Stage, who: str, payload: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=stage.url, timeout=30) as client:
        return client.post("/api/v1/contents", json={"payload": payload}, headers=stage.auth(who))


def _original(stage: Stage, unit: str = OWN) -> str:
    answer = _post(stage, "admin", _content(unit))
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _field_reason(answer: httpx.Response, field: str) -> str:
    fields = {f["field"]: f["reason"] for f in answer.json()["error"]["fields"]}
    assert field in fields, answer.text
    return str(fields[field])


def test_a_spokesperson_publishes_a_correction_and_it_is_audited(stage: Stage) -> None:
    original = _original(stage)
    correction = _correction(original)
    answer = _post(stage, "spokesperson", correction)
    assert answer.status_code == 202, answer.text
    audited = [r for r in stage.audit_rows() if r.get("content_id") == correction["id"]]
    assert [(r["actor"], r["action"], r["outcome"], r["detail"]) for r in audited] == [
        ("spokesperson", "submit", "ok", f"correction of {original}")
    ]


def test_an_editor_may_not_publish_a_correction(stage: Stage) -> None:
    correction = _correction(_original(stage))
    answer = _post(stage, "editor", correction)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "correction_not_allowed"
    reason = _field_reason(answer, "payload.kind")
    assert "spokesperson" in reason and "publish_correction" in reason
    refused = [r for r in stage.audit_rows() if r.get("content_id") == correction["id"]]
    assert [(r["actor"], r["outcome"]) for r in refused] == [("editor", "refused")]


def test_a_correction_of_an_unknown_content_names_corrects(stage: Stage) -> None:
    answer = _post(stage, "spokesperson", _correction("tin-khong-ton-tai"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "corrects_unknown"
    assert "tin-khong-ton-tai is unknown to the ingest" in _field_reason(answer, "payload.corrects")


def test_a_correction_of_a_retracted_content_names_corrects(stage: Stage) -> None:
    original = _original(stage)
    with httpx.Client(base_url=stage.url, timeout=30) as client:
        gone = client.post(
            f"/api/v1/contents/{original}/retract",
            json={"reason": "Gỡ bài do sai số liệu"},
            headers=stage.auth("admin"),
        )
    assert gone.status_code == 202, gone.text
    answer = _post(stage, "spokesperson", _correction(original))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "corrects_retracted"
    assert "retracted" in _field_reason(answer, "payload.corrects")


def test_a_spokesperson_may_not_correct_another_units_content(stage: Stage) -> None:
    original = _original(stage, OWN)
    answer = _post(stage, "spokesperson_other", _correction(original, unit=OTHER))
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "correction_not_allowed"
    assert OWN in _field_reason(answer, "payload.corrects")


def test_kind_and_corrects_go_together(stage: Stage) -> None:
    answer = _post(stage, "spokesperson", _content(corrects=_original(stage)))
    assert answer.status_code == 422, answer.text
    assert "only a content of kind correction" in answer.text

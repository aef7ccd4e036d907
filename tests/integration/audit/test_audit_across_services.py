"""One log across services, on the real stack: the ingest's acts reach the tracker's chain through
its outbox and ``loa.audit.v1``; the tracker's own acts are chained at once; the API filters and
exports it (admin only), formula cells neutralised."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

from loa.audit.verify import verify
from services.ingest.app import create_app as create_ingest
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.integration.tracker.support import (
    auth,
    create_topics,
    eventually,
    running_tracker,
    tracker_settings,
)
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration
UNIT = "Vụ Truyền thông và Báo chí"
FORMULA = '=HYPERLINK("http://x") Gỡ bài theo yêu cầu của Đồng chí Thứ trưởng'


async def test_ingest_and_tracker_acts_form_one_chain(stack: Stack, tmp_path: Path, pg_url: str) -> None:
    ingest, tokens = ingest_settings(stack, tmp_path)
    await create_topics(ingest)
    ts = tracker_settings(ingest, pg_url)
    cms = {"Authorization": f"Bearer {tokens['publisher']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    with serve(create_ingest(ingest)) as ingest_url:
        async with running_tracker(ts) as (app, tracker), httpx.AsyncClient(base_url=ingest_url) as api:
            r = await api.post(
                "/api/v1/contents", json={"payload": submitted_payload("tcbc-dong-nai")}, headers=cms
            )
            assert r.status_code == 202, r.text
            r = await api.post(
                "/api/v1/contents", json={"payload": submitted_payload("tcbc-dong-nai")}, headers=cms
            )
            assert r.status_code == 409  # the same version again: refused, and recorded as such
            newer = submitted_payload("tcbc-dong-nai", 2)
            r = await api.post("/api/v1/contents", json={"payload": newer}, headers=cms)
            assert r.status_code == 202, r.text
            r = await api.post(
                "/api/v1/contents/tcbc-dong-nai/retract",
                json={"reason": "Đính chính: sai số liệu Đà Nẵng"},
                headers=admin,
            )
            assert r.status_code == 202, r.text

            async def ingest_acts_chained() -> bool:
                r = await tracker.get("/api/v1/audit", headers=auth("admin"))
                return r.status_code == 200 and r.json()["total"] == 4

            await eventually(ingest_acts_chained, within=30, what="the ingest's acts in the tracker's chain")

            # the tracker's own acts: a failed sign-in, a sign-in, a retraction, an export
            r = await tracker.post(
                "/login", data={"token": "không-phải-mã-đúng-0123456789abcdef", "next": "/"}
            )
            assert r.status_code == 401
            r = await tracker.post("/login", data={"token": auth("admin")["Authorization"][7:], "next": "/"})
            assert r.status_code == 303

            async def known_to_the_tracker() -> bool:
                r = await tracker.get("/api/v1/contents/tcbc-dong-nai", headers=auth("viewer"))
                return r.status_code == 200 and r.json()["unit"] == UNIT

            await eventually(known_to_the_tracker, what="the content in the tracker")
            r = await tracker.post(
                "/api/v1/contents/tcbc-dong-nai/retract", json={"reason": FORMULA}, headers=auth("admin")
            )
            assert r.status_code == 202, r.text
            r = await tracker.get(
                "/api/v1/audit", params={"format": "csv", "unit": UNIT}, headers=auth("admin")
            )
            assert r.status_code == 200
            rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
            # a viewer's spreadsheet of the contents is an export too
            r = await tracker.get(
                "/api/v1/contents", params={"format": "csv", "q": "Đà Nẵng"}, headers=auth("viewer")
            )
            assert r.status_code == 200

            # a viewer and an operator may not read it
            for role in ("viewer", "operator"):
                assert (await tracker.get("/api/v1/audit", headers=auth(role))).status_code == 403
            everything = (
                await tracker.get("/api/v1/audit", params={"page_size": 100}, headers=auth("admin"))
            ).json()
            refused = (
                await tracker.get("/api/v1/audit", params={"action": "sign_in_failed"}, headers=auth("admin"))
            ).json()
            engine = app.state.tracker.engine
            verdict = await verify(engine)

    acts = [
        (e["actor"], e["action"], e["outcome"], e["content_id"], e["version"])
        for e in reversed(everything["items"])
    ]
    # the ingest's acts first (keyed by actor: one actor's stay in order), then the tracker's
    assert [a for a in acts[:4] if a[0] == "cms"] == [
        ("cms", "submit", "ok", "tcbc-dong-nai", 1),
        ("cms", "submit", "refused", "tcbc-dong-nai", 1),
        ("cms", "update", "ok", "tcbc-dong-nai", 2),
    ]
    assert ("admin", "retract", "ok", "tcbc-dong-nai", 2) in acts[:4]
    assert acts[4:] == [
        ("anonymous", "sign_in_failed", "refused", None, None),
        ("admin", "sign_in", "ok", None, None),
        ("admin", "retract", "ok", "tcbc-dong-nai", 2),
        ("admin", "export", "ok", None, None),
        ("viewer", "export", "ok", None, None),
    ]
    by_action = {(e["actor"], e["action"], e["source"]): e for e in everything["items"]}
    assert by_action["admin", "retract", "loa-ingest"]["reason"] == "Đính chính: sai số liệu Đà Nẵng"
    assert by_action["admin", "retract", "loa-tracker"]["unit"] == UNIT
    assert by_action["admin", "export", "loa-tracker"]["detail"] == f"audit_log unit={UNIT}"
    assert by_action["viewer", "export", "loa-tracker"]["detail"] == "contents q=Đà Nẵng"
    assert ("admin", "sign_in", "loa-tracker") in by_action
    assert by_action["anonymous", "sign_in_failed", "loa-tracker"]["address"] == "127.0.0.1"
    assert (
        "version_conflict"
        in next(e for e in everything["items"] if e["outcome"] == "refused" and e["actor"] == "cms")["reason"]
    )
    assert refused["total"] == 1 and refused["items"][0]["reason"] == "unknown token"
    # the export holds the unit's rows, itself included (recorded before it was read)
    assert {r["action"] for r in rows} == {"submit", "update", "retract", "export"}
    # a reason typed by a person is text, not a formula, in a spreadsheet (the CSV owner's rule)
    assert next(r["reason"] for r in rows if r["action"] == "retract") == "'" + FORMULA
    assert verdict.ok and verdict.rows == 9

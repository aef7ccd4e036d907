"""Incidents ("Sự cố truyền thông") through the API: opening, notes, close, audit; what an incident
groups (by unit and time window); and its after-action report (Markdown, CSV, PNG)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from PIL import Image

from loa.settings import LoaSettings
from services.tracker import incident_chart
from services.tracker.incident_timeline import IncidentDetail
from tests.integration.tracker.incident_drill import (
    CORRECTION,
    ELSEWHERE,
    INCIDENT,
    NORMAL,
    ORIGINAL,
    RETRACT_REASON,
    TITLE,
    URGENT,
    WAITING,
    play,
    seed_before,
    seeded,
)
from tests.integration.tracker.support import (
    UNIT,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    tracker_settings,
)

pytestmark = pytest.mark.integration
NOTE = "Đã liên hệ Báo Đà Nẵng để cải chính số liệu; Đoàn công tác xác nhận 2 nhà sập."
FORMULA_NOTE = '=HYPERLINK("http://example.com","Xem")'


async def test_an_incident_groups_its_units_steps_and_reports_them(
    settings: LoaSettings, db_url: str
) -> None:
    await create_topics(settings)
    async with (
        running_tracker(tracker_settings(settings, db_url)) as (_, client),
        producer(settings) as p,
    ):
        await seed_before(p, settings)
        await eventually(lambda: seeded(client), what="seed data")

        # who may open one, and refusals that name the field
        assert (
            await client.post("/api/v1/incidents", headers=auth("viewer"), json=INCIDENT)
        ).status_code == 403
        r = await client.post("/api/v1/incidents", headers=auth("operator"), json={**INCIDENT, "title": "  "})
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "body.title"
        r = await client.post("/api/v1/incidents", headers=auth("operator"), json={**INCIDENT, "units": []})
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "body.units"
        r = await client.post(
            "/api/v1/incidents", headers=auth("operator"), json={**INCIDENT, "severity": "x"}
        )
        assert r.json()["error"]["fields"][0]["field"] == "body.severity"

        r = await client.post("/api/v1/incidents", headers=auth("operator"), json=INCIDENT)
        assert r.status_code == 201, r.text
        incident = r.json()
        iid = incident["id"]
        assert (incident["title"], incident["units"], incident["opened_by"]) == (
            INCIDENT["title"],
            [UNIT],
            "operator",
        )
        r = await client.get(f"/api/v1/incidents/{iid}/report", headers=auth("viewer"))
        assert r.status_code == 409  # still open

        drill = await play(client, p, settings, datetime.fromisoformat(incident["opened_at"]))
        r = await client.post(f"/api/v1/incidents/{iid}/notes", headers=auth("operator"), json={"text": NOTE})
        assert r.status_code == 201, r.text
        r = await client.post(
            f"/api/v1/incidents/{iid}/notes", headers=auth("operator"), json={"text": FORMULA_NOTE}
        )
        assert r.status_code == 201
        r = await client.post(
            f"/api/v1/incidents/{iid}/close", headers=auth("operator"), json={"note": "Đã xử lý xong"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["closed_by"] == "operator"
        assert (
            await client.post(f"/api/v1/incidents/{iid}/close", headers=auth("operator"))
        ).status_code == 409
        r = await client.post(f"/api/v1/incidents/{iid}/notes", headers=auth("operator"), json={"text": NOTE})
        assert r.status_code == 409

        detail = IncidentDetail.model_validate(
            (await client.get(f"/api/v1/incidents/{iid}", headers=auth("viewer"))).json()
        )
        listed = (await client.get("/api/v1/incidents", headers=auth("viewer"))).json()
        assert [i["id"] for i in listed] == [iid]

        # the grouping rule: its unit's corrections, urgent posts, retractions and held deliveries
        grouped = {(s.content_id, s.grouped_as) for s in detail.steps if s.content_id}
        assert grouped == {
            (CORRECTION, "correction"),
            (URGENT, "urgent"),
            (ORIGINAL, "retraction"),
            (WAITING, "hold"),
        }, "a normal post, another unit's correction, and steps before the incident are not grouped"
        assert NORMAL not in str(grouped) and ELSEWHERE not in str(grouped)
        kinds = [s.kind for s in detail.steps if not s.content_id]
        assert kinds == [
            "incident.opened",
            "hold.placed",
            "hold.released",
            "incident.note",
            "incident.note",
            "incident.closed",
        ]
        retraction = [s for s in detail.steps if s.kind == "content.retracted"]
        assert [(s.content_id, s.actor, s.message) for s in retraction] == [
            (ORIGINAL, "tracker:admin", RETRACT_REASON)
        ]
        published = [
            s for s in detail.steps if s.content_id == CORRECTION and s.state and s.state.value == "published"
        ]
        assert {s.public_url for s in published} == {
            f"https://www.facebook.com/so-ttt-da-nang/posts/{CORRECTION}",
            f"https://mic.gov.vn/tin-tuc/{CORRECTION}.htm",
        }
        assert [s.at for s in detail.steps] == sorted(s.at for s in detail.steps)

        # how long each step took, from the known offsets of the drill
        took = {(d.step, d.subject, d.channel): d.seconds for d in detail.durations}
        assert took == {
            ("hold_effective", drill.hold_id, "facebook"): pytest.approx(0.5, abs=1e-3),
            ("correction_published", CORRECTION, "facebook"): pytest.approx(1.2, abs=1e-3),
            ("correction_published", CORRECTION, "website"): pytest.approx(0.7, abs=1e-3),
            ("urgent_published", URGENT, "facebook"): pytest.approx(0.5, abs=1e-3),
            ("retracted", ORIGINAL, "facebook"): pytest.approx(0.6, abs=1e-3),
            ("retracted", ORIGINAL, "website"): pytest.approx(0.3, abs=1e-3),
        }

        # the report: Markdown, CSV (formula-like cells neutralised) and the chart
        md = await client.get(f"/api/v1/incidents/{iid}/report", headers=auth("viewer"))
        assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
        text = md.text
        assert text.startswith(f"# Báo cáo sau sự cố: {TITLE}")
        assert "| Mức độ | Cao |" in text
        assert (
            "| Duyệt đính chính → đã đăng | Facebook so-ttt-da-nang | Đính chính: 2 nhà sập, không phải 12"
            in text
        )
        assert "| 1.2 s |" in text and "| 0.7 s |" in text
        assert "Tạm dừng → có hiệu lực trên kênh" in text and "Yêu cầu gỡ → đã gỡ" in text
        assert f"https://mic.gov.vn/tin-tuc/{CORRECTION}.htm" in text
        assert NOTE in text

        r = await client.get(
            f"/api/v1/incidents/{iid}/report", params={"format": "csv"}, headers=auth("viewer")
        )
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        durations = {
            (row["event"], row["channel"]): row["seconds"] for row in rows if row["record"] == "duration"
        }
        assert durations[("Yêu cầu gỡ → đã gỡ", "website")] == "0.300"
        assert durations[("Duyệt bài khẩn → đã đăng", "facebook")] == "0.500"
        steps = [row for row in rows if row["record"] == "step"]
        assert len(steps) == len(detail.steps)
        assert "'" + FORMULA_NOTE in {row["message"] for row in steps}
        assert FORMULA_NOTE not in {row["message"] for row in steps}

        r = await client.get(
            f"/api/v1/incidents/{iid}/report", params={"format": "png"}, headers=auth("viewer")
        )
        assert r.headers["content-type"] == "image/png"
        chart = Image.open(io.BytesIO(r.content))
        chart.load()
        assert chart.format == "PNG"
        assert (
            chart.size == incident_chart.size_px(detail) == (1200, 180 + 50 * 3)
        )  # incident, facebook, website

        # every act audited: open, the two notes, close, the three report downloads
        r = await client.get("/api/v1/audit", headers=auth("admin"), params={"page_size": 100})
        acts = [(e["action"], e["actor"]) for e in r.json()["items"] if e["action"].startswith("incident_")]
        assert sorted(acts) == sorted(
            [
                ("incident_open", "operator"),
                ("incident_note", "operator"),
                ("incident_note", "operator"),
                ("incident_close", "operator"),
            ]
        )
        reports = [e["detail"] for e in r.json()["items"] if e["detail"].startswith(f"incident {iid} report")]
        assert sorted(reports) == [f"incident {iid} report {f}" for f in ("csv", "md", "png")]

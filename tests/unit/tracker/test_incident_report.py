"""The after-action report from a made-up incident: text from people and platforms neither breaks
the Markdown table nor becomes markup or a spreadsheet formula; the chart's size follows its rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from loa.events import DeliveryState
from services.tracker import incident_chart, incident_report
from services.tracker.i18n import Translator
from services.tracker.incident_timeline import IncidentDetail, IncidentStep, StepDuration
from services.tracker.incidents import NoteOut, Severity

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
HOSTILE = "=cmd|' /C calc'!A0 <script>alert(1)</script>\nĐà Nẵng"


def _incident() -> IncidentDetail:
    at = [T0 + timedelta(seconds=s) for s in range(8)]
    steps = [
        IncidentStep(
            at=at[0], kind="incident.opened", actor="nguyen.van.a@mic.gov.vn", message="Tin giả về bão"
        ),
        IncidentStep(at=at[1], kind="incident.note", actor="nguyen.van.a@mic.gov.vn", message=HOSTILE),
        IncidentStep(
            at=at[2],
            kind="delivery.status",
            channel="facebook",
            account="trang-bo",
            state=DeliveryState.PUBLISHED,
            public_url="https://www.facebook.com/trang-bo/posts/1",
            external_id="1",
            content_id="dinh-chinh-1",
            title="Đính chính số liệu",
            grouped_as="correction",
        ),
        IncidentStep(
            at=at[3],
            kind="delivery.status",
            channel="x",
            account="bo-ttt",
            state=DeliveryState.FAILED,
            error_code="187",
            message="Status is a duplicate.",
            content_id="dinh-chinh-1",
            title="Đính chính số liệu",
            grouped_as="correction",
        ),
        IncidentStep(at=at[7], kind="incident.closed", actor="tran.thi.b@mic.gov.vn"),
    ]
    durations = [
        StepDuration(
            step="correction_published",
            subject="dinh-chinh-1",
            title="Đính chính số liệu",
            channel="facebook",
            account="trang-bo",
            started_at=at[1],
            ended_at=at[2],
            seconds=1.0,
        ),
        StepDuration(
            step="correction_published",
            subject="dinh-chinh-1",
            title="Đính chính số liệu",
            channel="x",
            account="bo-ttt",
            started_at=at[1],
            ended_at=None,
            seconds=None,
        ),
    ]
    return IncidentDetail(
        id=7,
        title="Tin giả về bão | số 9",
        severity=Severity.CRITICAL,
        units=["Vụ Truyền thông và Báo chí"],
        opened_by="nguyen.van.a@mic.gov.vn",
        opened_at=at[0],
        closed_at=at[7],
        closed_by="tran.thi.b@mic.gov.vn",
        close_note=None,
        notes=[NoteOut(id=1, at=at[1], author="nguyen.van.a@mic.gov.vn", text=HOSTILE)],
        steps=steps,
        durations=durations,
    )


def test_markdown_lists_every_step_and_duration_and_escapes_outside_text() -> None:
    text = incident_report.markdown(_incident(), Translator("vi"))
    assert text.startswith("# Báo cáo sau sự cố: Tin giả về bão \\| số 9\n")
    assert "| Mức độ | Nghiêm trọng |" in text
    assert "| Kéo dài | 7.0 s |" in text
    steps = [line for line in text.splitlines() if line.startswith("| 08:0")]  # Asia/Ho_Chi_Minh
    durations = [line for line in text.splitlines() if line.startswith("| Duyệt đính chính")]
    rows = steps + durations
    assert (len(steps), len(durations)) == (5, 2)
    assert all(row.count(" | ") == 5 for row in rows), "a cell's | would add a column"
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "Đà Nẵng" in text
    assert "Facebook trang-bo | Đã đăng · Đính chính | Đính chính số liệu (dinh-chinh-1)" in text
    assert "Status is a duplicate. [187]" in text
    assert "| Duyệt đính chính → đã đăng | X bo-ttt | Đính chính số liệu (dinh-chinh-1) |" in text
    assert text.rstrip().endswith("| chưa xong | chưa xong |")
    english = incident_report.markdown(_incident(), Translator("en"))
    assert english.startswith("# After-action report:")


def test_csv_neutralises_formula_cells_and_keeps_vietnamese() -> None:
    body = incident_report.csv_text(_incident(), Translator("vi"))
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert [r["record"] for r in rows] == ["step"] * 5 + ["duration"] * 2
    note = next(r for r in rows if r["event"] == "Ghi chú")
    assert note["message"] == "'" + HOSTILE
    assert rows[5]["seconds"] == "1.000" and rows[6]["seconds"] == ""
    assert rows[2]["public_url"] == "https://www.facebook.com/trang-bo/posts/1"


def test_the_chart_is_a_png_of_a_row_per_channel() -> None:
    incident = _incident()
    assert incident_chart.rows(incident) == ["", "facebook", "x"]
    image = Image.open(io.BytesIO(incident_chart.png(incident, Translator("vi"))))
    image.load()
    assert image.format == "PNG"
    assert image.size == incident_chart.size_px(incident) == (1200, 180 + 3 * 50)

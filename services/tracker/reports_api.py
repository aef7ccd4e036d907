"""``/api/v1/reports`` and the ``/reports`` page: the leadership report (``reports``) as JSON, CSV,
a PNG or PDF chart and a dashboard page, and its current month on ``/metrics``.

Reading needs ``read`` on the unit asked for (none: the report covers the units one may read); a
download (the CSV, a chart with ``download=true``) needs ``export`` and is audited as one. The
page's own chart is the same image shown inline: a read, like the table beside it.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction
from services.tracker import charts, queries, report_chart, reports
from services.tracker.api import ERRORS, Deps, csv_cell
from services.tracker.auth import check_filter, requires, visible_units
from services.tracker.context import Tracker
from services.tracker.i18n import Translator
from services.tracker.reports import Range, RangeError, Report
from services.tracker.web import render_page

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["reports"])
pages = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Exporter = Annotated[Principal, Depends(requires(Action.EXPORT))]
UnitQuery = Annotated[
    str | None,
    Query(max_length=200, description="a unit: it and the units below it; none: every unit one may read"),
]
MonthQuery = Annotated[
    str | None, Query(max_length=7, description="YYYY-MM: that month (instead of from/to)")
]
FromQuery = Annotated[
    date | None, Query(alias="from", description="first day, YYYY-MM-DD (Asia/Ho_Chi_Minh)")
]
ToQuery = Annotated[date | None, Query(alias="to", description="the day after the last one (excluded)")]
Lang = Annotated[Literal["vi", "en"], Query(description="the language of the CSV's headers and the chart")]
METRICS_MAX_AGE_S = 300.0
"""``/metrics`` recomputes the current month's report at most this often (a scrape every 15 s would
otherwise read a month of deliveries each time)."""
CSV_COLUMNS = (
    ("unit", "unit"),
    ("channel", "channel"),
    ("deliveries", "col_deliveries"),
    ("published", "published"),
    ("on_time", "on_time"),
    ("on_time_rate", "on_time_rate"),
    ("failed", "failed_n"),
    ("retracted", "retracted_n"),
    ("audience_metric", "audience_metric"),
    ("audience", "report_audience"),
    ("reactions", "metric_reactions"),
    ("comments", "metric_comments"),
    ("shares", "metric_shares"),
    ("posts_with_figures", "posts_with_figures"),
    ("comments_received", "comments_received"),
    ("comments_answered", "comments_answered"),
    ("comment_answer_median_s", "comment_answer_median_s"),
    ("alerts", "alerts_raised"),
    ("alerts_answered", "alerts_answered"),
    ("alert_answer_median_s", "alert_answer_median_s"),
)
"""(the row's field, the header's label): headers in the report's language, Vietnamese by default."""


def span_of(month: str | None, first: date | None, end: date | None) -> Range:
    """The range asked for: a month, ``[from, to)``, or (neither) the current month; 422 naming the
    parameter otherwise."""
    try:
        if month and (first or end):
            raise RangeError("month", "give a month or from/to, not both")
        if month:
            return reports.parse_month(month)
        if first is None and end is None:
            return reports.this_month()
        if first is None or end is None:
            raise RangeError("from" if first is None else "to", "from and to go together")
        return reports.days(first, end)
    except RangeError as e:
        raise refused(e) from None


def refused(e: RangeError) -> RequestValidationError:
    """A 422 as every invalid parameter gets one: the field, and the reason."""
    reason = str(e).removeprefix(f"{e.field}: ")
    return RequestValidationError([{"loc": ("query", e.field), "msg": reason, "type": "value_error"}])


@dataclass(frozen=True)
class Scope:
    """What a report request asks for: a unit (or every unit one may read) and a range of days."""

    unit: str | None
    span: Range


def _scope(
    unit: UnitQuery = None, month: MonthQuery = None, first: FromQuery = None, end: ToQuery = None
) -> Scope:
    return Scope(unit, span_of(month, first, end))


Asked = Annotated[Scope, Depends(_scope)]


def units_of(request: Request, who: Principal, unit: str | None) -> frozenset[str] | None:
    """The units the report covers: ``unit`` and those below it (403 unless ``who`` may read it), or
    every unit ``who`` may read (``None``: all)."""
    visible = visible_units(request, who)
    if unit is None:
        return visible
    check_filter(request, who, Action.READ, unit)
    below: frozenset[str] = request.app.state.auth.policy.units.subtree(unit)
    return below if visible is None else below & visible


async def _report(t: Tracker, request: Request, who: Principal, asked: Scope) -> Report:
    units = units_of(request, who, asked.unit)
    return await reports.report(t.engine, asked.span, t.settings.tracker_on_time_s, units)


def _attachment(asked: Scope, ext: str) -> dict[str, str]:
    """The file's name in ASCII only (a header value): the unit is in the file, not its name."""
    scope = "don-vi" if asked.unit else "tat-ca"
    name = f"bao-cao-{scope}-{asked.span.first.isoformat()}-{asked.span.last.isoformat()}.{ext}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


async def _audit_download(t: Tracker, request: Request, who: Principal, asked: Scope, what: str) -> None:
    check_filter(request, who, Action.EXPORT, asked.unit)
    detail = f"report {asked.span.first.isoformat()}..{asked.span.last.isoformat()} {what}"
    await record(t.audit, actor(who, request), AuditAction.EXPORT, unit=asked.unit, detail=detail)


def csv_text(report: Report, t: Translator) -> str:
    """With a BOM, so spreadsheet programs read Vietnamese as UTF-8; an empty cell where there is no
    figure (never a zero); formula-like cells neutralised (``api.csv_cell``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([t(label) for _, label in CSV_COLUMNS])
    for row in report.rows:
        values = row.model_dump(mode="json")
        values["channel"] = t.channel(row.channel)
        if row.audience_metric is not None:
            values["audience_metric"] = t("metric_" + row.audience_metric)
        writer.writerow([csv_cell("" if values[k] is None else values[k]) for k, _ in CSV_COLUMNS])
    return "\ufeff" + buffer.getvalue()


@router.get(
    "/reports",
    response_model=Report,
    summary="Per unit and channel over a month or a range of days: posts published, on-time rate, "
    "failures, take-downs, the latest engagement figures, comments and alerts with how fast they were "
    "answered (default: the current month)",
)
async def get_report(t: Deps, request: Request, who: Viewer, asked: Asked) -> Report:
    return await _report(t, request, who, asked)


@router.get(
    "/reports.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The report as a spreadsheet (UTF-8 with a BOM, headers in Vietnamese by default); audited",
)
async def report_csv(t: Deps, request: Request, who: Exporter, asked: Asked, lang: Lang = "vi") -> Response:
    found = await _report(t, request, who, asked)
    await _audit_download(t, request, who, asked, "csv")
    body = csv_text(found, Translator(lang))
    return Response(body, media_type="text/csv; charset=utf-8", headers=_attachment(asked, "csv"))


@router.get(
    "/reports.{fmt}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/pdf": {}}}},
    summary="The report's chart, PNG or PDF; with download=true an attachment, audited as an export",
)
async def report_chart_file(
    t: Deps,
    request: Request,
    who: Viewer,
    fmt: Literal["png", "pdf"],
    asked: Asked,
    lang: Lang = "vi",
    download: bool = False,
) -> Response:
    found = await _report(t, request, who, asked)
    headers = {"Cache-Control": "no-store"}
    if download:
        await _audit_download(t, request, who, asked, fmt)
        headers |= _attachment(asked, fmt)
    body = report_chart.render(found, Translator(lang), fmt)
    return Response(body, media_type=charts.MEDIA_TYPES[fmt], headers=headers)


@pages.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    who: Viewer,
    unit: Annotated[str, Query(max_length=200)] = "",
    month: Annotated[str, Query(max_length=7)] = "",
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    through: Annotated[str, Query(max_length=10, description="the last day, included")] = "",
) -> Response:
    """ "Báo cáo lãnh đạo": a month or a custom range (its last day included, as people say it), a unit."""
    t: Tracker = request.app.state.tracker
    if first or through:
        start = day_param(first or through, "from")
        span = span_of(None, start, day_param(through or first, "through") + timedelta(days=1))
    else:
        span = span_of(month or None, None, None)
    found = await _report(t, request, who, Scope(unit or None, span))
    visible = visible_units(request, who)
    known = [u for u in await queries.units(t.engine) if visible is None or u in visible]
    query = {"from": span.first.isoformat(), "to": span.end.isoformat()} | ({"unit": unit} if unit else {})
    return render_page(
        request,
        "reports.html",
        who,
        report=found,
        span=span,
        month=span.first.strftime("%Y-%m"),
        unit=unit,
        units=known,
        query=query,
    )


def day_param(value: str, name: str) -> date:
    """A day query parameter, or a 422 naming it."""
    try:
        return reports.parse_day(value, name)
    except RangeError as e:
        raise refused(e) from None


async def refresh_gauges(t: Tracker) -> None:
    """The current month's report on ``/metrics``, per unit and channel, recomputed at most every
    ``METRICS_MAX_AGE_S``."""
    if time.monotonic() - t.metrics.report_refreshed < METRICS_MAX_AGE_S:
        return
    found = await reports.report(t.engine, reports.this_month(), t.settings.tracker_on_time_s)
    t.metrics.set_report(found)
    t.metrics.report_refreshed = time.monotonic()

"""``/api/v1/calendar`` and the ``/calendar`` page: the planning calendar (``calendar``) by week or
month, and moving a scheduled delivery to a new time (``POST /deliveries/{id}/reschedule``).

Reading needs ``read`` on the unit asked for (none: the units one may read). Moving needs what the
hold switch's "reschedule" of a late item needs (``hold``: operators, on the delivery's unit), is
refused with a 409 naming the state unless ``calendar.movable``, goes to the publishers as
``delivery.reschedule`` and is audited as ``reschedule``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response

from loa.access import Principal
from loa.access.policy import Action
from loa.events import DEFAULT_TIMEZONE, AuditAction, DeliveryRef, RescheduleDelivery, utcnow
from services.tracker import calendar, calendar_feeds, queries, reports
from services.tracker.api import ERRORS, Deps, delivery_or_404, send_delivery_command
from services.tracker.auth import requires, visible_units
from services.tracker.calendar import Calendar
from services.tracker.context import Tracker
from services.tracker.queries import today
from services.tracker.reports import Range, RangeError
from services.tracker.reports_api import day_param, refused, units_of
from services.tracker.views import ActionAccepted, RescheduleRequest
from services.tracker.web import render_page

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["calendar"])
pages = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Operator = Annotated[Principal, Depends(requires(Action.HOLD))]
UnitQuery = Annotated[
    str | None,
    Query(max_length=200, description="a unit: it and the units below it; none: every unit one may read"),
]
ChannelQuery = Annotated[str | None, Query(max_length=32, description="one channel (facebook, zalo…)")]
FromQuery = Annotated[
    date | None, Query(alias="from", description="first day, YYYY-MM-DD (Asia/Ho_Chi_Minh); none: this week")
]
ToQuery = Annotated[date | None, Query(alias="to", description="the day after the last one (excluded)")]
View = Literal["month", "week"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The labels of the calendar's columns, Monday first as Vietnamese calendars show them."""


def span_of(first: date | None, end: date | None) -> Range:
    """``[from, to)`` (at most ``calendar.MAX_DAYS``), or this week; 422 naming the parameter."""
    try:
        if first is None and end is None:
            return calendar.week_of(today())
        if first is None or end is None:
            raise RangeError("from" if first is None else "to", "from and to go together")
        reports.within("from", first)
        reports.within("to", end)
        return calendar.checked_range(first, end)
    except RangeError as e:
        raise refused(e) from None


@router.get(
    "/calendar",
    response_model=Calendar,
    summary="Deliveries by the office's day (Asia/Ho_Chi_Minh): published, scheduled, held, failed…",
)
async def get_calendar(
    t: Deps,
    request: Request,
    who: Viewer,
    unit: UnitQuery = None,
    channel: ChannelQuery = None,
    first: FromQuery = None,
    end: ToQuery = None,
) -> Calendar:
    span = span_of(first, end)
    return await calendar.calendar(t.engine, span, units_of(request, who, unit), channel)


@router.post("/deliveries/{delivery_id}/reschedule", status_code=202, response_model=ActionAccepted)
async def reschedule(
    t: Deps, request: Request, who: Operator, delivery_id: str, body: RescheduleRequest
) -> ActionAccepted:
    """Move a scheduled delivery not yet sent to ``at`` (``delivery.reschedule``); 409 naming the
    state for one published, being sent, held or natively scheduled."""
    d = await delivery_or_404(t, request, who, Action.HOLD, delivery_id)
    refusal = calendar.reschedule_refusal(d)
    if refusal is not None:
        raise HTTPException(409, refusal)
    if body.at <= utcnow():
        error = {"loc": ("body", "at"), "msg": "the new time has passed", "type": "value_error"}
        raise RequestValidationError([error])
    ref = DeliveryRef(
        content_id=d.content_id,
        channel=d.channel,
        account=d.account,
        requested_by=f"tracker:{who.name}",
        reason=body.reason,
    )
    command = RescheduleDelivery(payload=ref, at=body.at, producer="loa-tracker")
    local = body.at.astimezone(DEFAULT_TIMEZONE).strftime("%Y-%m-%d %H:%M")
    was = d.due_at.astimezone(DEFAULT_TIMEZONE).strftime("%Y-%m-%d %H:%M") if d.due_at else "—"
    detail = f"{was} → {local} (Asia/Ho_Chi_Minh)" + (f": {body.reason}" if body.reason else "")
    audited = AuditAction.RESCHEDULE
    return await send_delivery_command(t, request, who, d, command, audited, body.reason, detail)


@pages.get("/calendar", response_class=HTMLResponse)
async def calendar_page(
    request: Request,
    who: Viewer,
    view: View = "month",
    day: Annotated[str, Query(max_length=10, description="a day of the week or month shown")] = "",
    unit: Annotated[str, Query(max_length=200)] = "",
    channel: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """ "Lịch phát hành": a month (its weeks, Monday first) or a week; drag to move, or "Dời lịch"."""
    t: Tracker = request.app.state.tracker
    anchor = day_param(day, "day") if day else today()
    span = calendar.month_grid(anchor) if view == "month" else calendar.week_of(anchor)
    found = await calendar.calendar(t.engine, span, units_of(request, who, unit or None), channel or None)
    visible = visible_units(request, who)
    known = [u for u in await queries.units(t.engine) if visible is None or u in visible]
    filters = {k: v for k, v in (("unit", unit), ("channel", channel)) if v}
    may_issue = request.app.state.auth.policy.may(who, Action.MANAGE_TOKENS)
    return render_page(
        request,
        "calendar.html",
        who,
        cal=found,
        span=span,
        view=view,
        anchor=anchor,
        today=today(),
        nav={k: filters | {"view": view, "day": d.isoformat()} for k, d in _steps(view, anchor).items()},
        weekdays=WEEKDAYS,
        unit=unit,
        units=known,
        channel=channel,
        channels=sorted(t.settings.channel_names),
        feeds=await calendar_feeds.list_feeds(t.engine) if may_issue else [],
    )


def _steps(view: View, anchor: date) -> dict[str, date]:
    """The days the page's "before", "today" and "after" links show."""
    if view == "week":
        return {"before": anchor - timedelta(days=7), "today": today(), "after": anchor + timedelta(days=7)}
    month = reports.month_of(anchor)
    return {
        "before": reports.month_of(month.first - timedelta(days=1)).first,
        "today": today(),
        "after": month.end,
    }

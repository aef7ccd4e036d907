"""The planning calendar (issue #24 item 1): deliveries by the office's day, and which may move.

One owner for what the calendar page, ``/api/v1/calendar`` and the iCalendar feed show. A delivery
sits on the calendar at when it went out (``published_at``) or, not sent yet, when it is due
(``queries.reference_time``: its scheduled time, else its content's approval, else when the tracker
first saw it), on that instant's day in Asia/Ho_Chi_Minh. Cancelled deliveries are left out:
nothing is planned there any more.

A delivery may be moved (drag, "Dời lịch") only while ``scheduled`` and not handed to the
platform's own scheduler (``external_id`` set while scheduled: the platform holds the post, and
moving it would need a pull-back first); ``reschedule_refusal`` says why not otherwise, and the
publishers apply the same rule again (``loa.publisher.reschedule``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.db import UtcDateTime
from loa.events import DEFAULT_TIMEZONE, DeliveryState, Priority
from services.tracker.queries import day_start, reference_time
from services.tracker.reports import Range, RangeError, month_of
from services.tracker.tables import contents, deliveries
from services.tracker.views import DeliveryOut

MAX_DAYS = 42
"""The longest range one calendar covers: a month view's six weeks."""
MAX_ITEMS = 5000
"""At most this many deliveries in one calendar (a bounded read); ``Calendar.truncated`` says so."""
LEFT_OUT = (DeliveryState.CANCELLED,)


class CalendarItem(BaseModel):
    delivery_id: str
    content_id: str
    title: str | None
    unit: str | None
    channel: str
    account: str
    state: DeliveryState
    priority: Priority = Priority.NORMAL
    at: datetime = Field(description="published, else due (UTC)")
    local_time: str = Field(description="HH:MM in Asia/Ho_Chi_Minh")
    held: bool = Field(description="a hold keeps it (Tạm dừng)")
    movable: bool = Field(description="may be rescheduled (scheduled, not natively scheduled)")


class CalendarDay(BaseModel):
    day: date
    items: list[CalendarItem]


class Calendar(BaseModel):
    first: date
    end: date = Field(description="the day after the last one (excluded)")
    timezone: str = str(DEFAULT_TIMEZONE)
    days: list[CalendarDay] = Field(description="every day of the range, in order, empty ones too")
    truncated: bool = False


def placed_at() -> ColumnElement[datetime]:
    """Where a delivery sits on the calendar: when it went out, else when it is due."""
    return func.coalesce(deliveries.c.published_at, reference_time(), type_=UtcDateTime(timezone=True))


def movable(state: DeliveryState, external_id: str | None) -> bool:
    return state is DeliveryState.SCHEDULED and external_id is None


def reschedule_refusal(d: DeliveryOut) -> str | None:
    """Why ``d`` cannot be moved (a 409's message), or ``None``."""
    if movable(d.state, d.external_id):
        return None
    if d.state is DeliveryState.SCHEDULED:
        return f"delivery {d.id!r} is scheduled on the platform itself: cancel it and send it again"
    return f"delivery {d.id!r} is {d.state.value}: only a scheduled delivery not yet sent can be moved"


def checked_range(first: date, end: date) -> Range:
    if end <= first:
        raise RangeError("to", "comes after from")
    if (end - first).days > MAX_DAYS:
        raise RangeError("to", f"a calendar covers at most {MAX_DAYS} days")
    return Range(first, end)


def week_of(day: date) -> Range:
    """Monday to Sunday, as Vietnamese calendars show a week (Thứ Hai first)."""
    first = day - timedelta(days=day.weekday())
    return Range(first, first + timedelta(days=7))


def month_grid(day: date) -> Range:
    """The weeks that show ``day``'s month: from the Monday on or before the 1st to the Sunday on or
    after its last day (at most six weeks)."""
    month = month_of(day)
    return Range(week_of(month.first).first, week_of(month.last).end)


async def calendar(
    engine: AsyncEngine,
    span: Range,
    units: frozenset[str] | None = None,
    channel: str | None = None,
) -> Calendar:
    """The deliveries placed in ``span`` (of ``units``: ``None`` every unit; of ``channel``)."""
    at = placed_at().label("placed_at")
    where: list[ColumnElement[bool]] = [
        at >= day_start(span.first),
        at < day_start(span.end),
        deliveries.c.state.not_in([s.value for s in LEFT_OUT]),
    ]
    if units is not None:
        where.append(contents.c.unit.in_(sorted(units)))
    if channel:
        where.append(deliveries.c.channel == channel)
    stmt = (
        select(deliveries, contents.c.unit, contents.c.title, contents.c.priority, at)
        .select_from(deliveries.outerjoin(contents, contents.c.id == deliveries.c.content_id))
        .where(*where)
        .order_by(at, deliveries.c.id)
        .limit(MAX_ITEMS + 1)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    by_day: dict[date, list[CalendarItem]] = defaultdict(list)
    for row in rows[:MAX_ITEMS]:
        item = _item(row._mapping)
        by_day[item.at.astimezone(DEFAULT_TIMEZONE).date()].append(item)
    days = [span.first + timedelta(days=i) for i in range((span.end - span.first).days)]
    return Calendar(
        first=span.first,
        end=span.end,
        days=[CalendarDay(day=d, items=by_day.get(d, [])) for d in days],
        truncated=len(rows) > MAX_ITEMS,
    )


def _item(m: object) -> CalendarItem:
    row = dict(m)  # type: ignore[call-overload]
    at: datetime = row["placed_at"]
    state = DeliveryState(row["state"])
    return CalendarItem(
        delivery_id=row["id"],
        content_id=row["content_id"],
        title=row["title"],
        unit=row["unit"],
        channel=row["channel"],
        account=row["account"],
        state=state,
        priority=row["priority"] or Priority.NORMAL,
        at=at,
        local_time=at.astimezone(DEFAULT_TIMEZONE).strftime("%H:%M"),
        held=state is DeliveryState.HELD,
        movable=movable(state, row["external_id"]),
    )

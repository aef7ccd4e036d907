"""Reports for leadership (issue #18 item 5): per unit and channel over a range of the office's days.

One owner for the figures the report page, ``/api/v1/reports`` (JSON, CSV, chart) and ``/metrics``
show. A delivery belongs to the range by when it was due (``queries.reference_time``: its scheduled
time, else its content's approval, else when the tracker first saw it), the range being
``[from, to)`` of days in Asia/Ho_Chi_Minh. For each unit and channel:

- ``published``: deliveries that went out (``published_at`` set; one retracted later still counts);
- ``on_time`` / ``on_time_rate``: of those, published within ``LOA_TRACKER_ON_TIME_S`` of when they
  were due (``queries.on_time``, the stats' own rule);
- ``failed``: deliveries failed, needing attention or whose take-down failed (``queries.FAILURE_STATES``);
- ``retracted``: deliveries taken down;
- engagement: the latest figure of each published post as the listener last read it
  (``engagement.newest``), summed. ``None`` where no post of the row has that figure (a channel
  the listener does not read, a figure the platform does not give): never a made-up zero;
- listening: the comments written and the watch's alerts raised in the range, how many are answered
  and how fast (``reports_inbox``: by when they came, not by the posts' due time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Join, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import DEFAULT_TIMEZONE, DeliveryState, Metric
from services.tracker import engagement
from services.tracker.queries import (
    FAILURE_STATES,
    UNKNOWN_UNIT,
    day_start,
    latency_s,
    on_time,
    reference_time,
    today,
)
from services.tracker.reports_inbox import Listening, listening
from services.tracker.tables import contents, deliveries, engagement_samples

AUDIENCE: dict[str, Metric] = {
    "facebook": Metric.REACH,
    "youtube": Metric.VIEWS,
    "x": Metric.IMPRESSIONS,
    "website": Metric.VIEWS,
}
"""Which figure the report's "reach/views" column is on each channel (``loa.events.Metric``):
Facebook's people reached (``post_impressions_unique``), YouTube's views (``viewCount``), X's
impressions (``impression_count``: X gives no reach), the website's page views (counted by its own
server, services/website/views.py). A channel not listed has no such column."""
FIGURES = (Metric.REACTIONS, Metric.COMMENTS, Metric.SHARES)
"""The engagement columns besides reach/views, as every channel's reader names them."""
MAX_DAYS = 400
"""The longest range one report covers: a year and a little, so one request reads a bounded slice."""
FIRST_DAY, END_DAY = date(2000, 1, 1), date(2100, 1, 1)
"""The days a report may cover: far around Loa's life, and far from the calendar's ends (year 1
or 9999 in Vietnam's time has no UTC)."""


class RangeError(ValueError):
    """A report range that cannot be: names the parameter and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True)
class Range:
    """``[first, end)`` as days of the office (Asia/Ho_Chi_Minh)."""

    first: date
    end: date

    @property
    def since(self) -> datetime:
        return day_start(self.first)

    @property
    def until(self) -> datetime:
        return day_start(self.end)

    @property
    def last(self) -> date:
        """The range's last day (inclusive), as people say it."""
        return self.end - timedelta(days=1)


def month_of(day: date) -> Range:
    first = day.replace(day=1)
    end = (first + timedelta(days=32)).replace(day=1)
    return Range(first, end)


def this_month(now: datetime | None = None) -> Range:
    """The current month of the office's calendar."""
    return month_of(today(now))


def parse_day(value: str, field: str) -> date:
    """``YYYY-MM-DD`` within the reports' years, or a ``RangeError`` naming ``field``."""
    try:
        found = date.fromisoformat(value)
    except ValueError:
        raise RangeError(field, f"{value!r} is not a day written YYYY-MM-DD") from None
    within(field, found)
    return found


def parse_month(value: str) -> Range:
    """``YYYY-MM`` (an ``<input type=month>``'s value) → that month."""
    try:
        first = date.fromisoformat(f"{value}-01")
    except ValueError:
        raise RangeError("month", f"{value!r} is not a month written YYYY-MM") from None
    within("month", first)
    return month_of(first)


def within(field: str, day: date) -> None:
    """Refuses a day outside ``FIRST_DAY`` .. ``END_DAY`` (excluded), naming the parameter."""
    if not FIRST_DAY <= day < END_DAY:
        last = END_DAY - timedelta(days=1)
        raise RangeError(
            field, f"{day.isoformat()} is not between {FIRST_DAY.isoformat()} and {last.isoformat()}"
        )


def days(first: date, end: date) -> Range:
    """``[first, end)``; ``end`` must come after ``first``, at most ``MAX_DAYS`` later."""
    within("from", first)
    if end > END_DAY:
        raise RangeError(
            "to", f"{end.isoformat()} is after {END_DAY.isoformat()}, the latest end of a report"
        )
    if end <= first:
        raise RangeError("to", f"{end.isoformat()} is not after from={first.isoformat()} (to is excluded)")
    if (end - first).days > MAX_DAYS:
        raise RangeError("to", f"the range is {(end - first).days} days; at most {MAX_DAYS}")
    return Range(first, end)


class ReportRow(BaseModel):
    unit: str
    channel: str
    deliveries: int = Field(description="deliveries due in the range, in any state")
    published: int = Field(description="of them, published (retracted later or not)")
    on_time: int = Field(description="published within on_time_window_s of when they were due")
    on_time_rate: float | None = Field(description="on_time / published; none when nothing was published")
    failed: int = Field(description="failed, needing attention, or whose take-down failed")
    retracted: int
    audience_metric: Metric | None = Field(
        description="which figure `audience` is on this channel (reach, views or impressions)"
    )
    audience: int | None = Field(description="reach/views: the latest figure of each post, summed")
    reactions: int | None
    comments: int | None = Field(description="comments on the posts (the platform's count)")
    shares: int | None
    posts_with_figures: int = Field(description="published posts the listener has read at least once")
    comments_received: int = Field(
        0, description="citizens' comments written in the range that the listener brought into the inbox"
    )
    comments_answered: int = Field(0, description="of them, answered or hidden so far")
    comment_answer_median_s: float | None = Field(
        None, description="median seconds from a comment's writing to its first answer or hide"
    )
    alerts: int = Field(0, description="alerts the misinformation watch raised in the range")
    alerts_answered: int = Field(
        0, description="of them, followed by an answer or hide of a comment of the alert's post (or unit)"
    )
    alert_answer_median_s: float | None = Field(
        None, description="median seconds from an alert to that first answer or hide"
    )


class Report(BaseModel):
    first_day: date
    last_day: date = Field(description="inclusive")
    since: datetime = Field(description="the range's start, midnight in Asia/Ho_Chi_Minh")
    until: datetime = Field(description="the range's end (excluded)")
    timezone: str = str(DEFAULT_TIMEZONE)
    on_time_window_s: float
    rows: list[ReportRow]


@dataclass
class _Row:
    deliveries: int = 0
    published: int = 0
    on_time: int = 0
    failed: int = 0
    retracted: int = 0
    figures: dict[str, int] = field(default_factory=dict)
    posts_read: set[tuple[str, str]] = field(default_factory=set)
    heard: Listening = field(default_factory=Listening)

    def out(self, unit: str, channel: str) -> ReportRow:
        audience = AUDIENCE.get(channel)
        return ReportRow(
            unit=unit,
            channel=channel,
            deliveries=self.deliveries,
            published=self.published,
            on_time=self.on_time,
            on_time_rate=round(self.on_time / self.published, 4) if self.published else None,
            failed=self.failed,
            retracted=self.retracted,
            audience_metric=audience,
            audience=self.figures.get(audience) if audience else None,
            reactions=self.figures.get(Metric.REACTIONS),
            comments=self.figures.get(Metric.COMMENTS),
            shares=self.figures.get(Metric.SHARES),
            posts_with_figures=len(self.posts_read),
            comments_received=self.heard.comments.received,
            comments_answered=self.heard.comments.answered,
            comment_answer_median_s=self.heard.comments.median_s,
            alerts=self.heard.alerts.received,
            alerts_answered=self.heard.alerts.answered,
            alert_answer_median_s=self.heard.alerts.median_s,
        )


def _in_range(span: Range, units: frozenset[str] | None) -> list[ColumnElement[bool]]:
    ref = reference_time()
    where = [ref >= span.since, ref < span.until]
    if units is not None:
        where.append(contents.c.unit.in_(sorted(units)))
    return where


def _joined() -> Join:
    return deliveries.outerjoin(contents, contents.c.id == deliveries.c.content_id)


def _published_in_range(span: Range, units: frozenset[str] | None) -> Select[Any]:
    """(content, channel, account) of the deliveries of the range that went out."""
    return (
        select(deliveries.c.content_id, deliveries.c.channel, deliveries.c.account)
        .select_from(_joined())
        .where(*_in_range(span, units), deliveries.c.published_at.is_not(None))
    )


async def report(
    engine: AsyncEngine, span: Range, on_time_s: float, units: frozenset[str] | None = None
) -> Report:
    """The report of ``span`` for ``units`` (``None``: every unit), one row per unit and channel."""
    query = (
        select(
            deliveries.c.content_id,
            deliveries.c.channel,
            deliveries.c.account,
            contents.c.unit,
            deliveries.c.state,
            deliveries.c.due_at,
            contents.c.approved_at,
            deliveries.c.published_at,
        )
        .select_from(_joined())
        .where(*_in_range(span, units))
    )
    rows: dict[tuple[str, str], _Row] = defaultdict(_Row)
    s = engagement_samples.c
    posts = tuple_(s.content_id, s.channel, s.account).in_(_published_in_range(span, units))
    # Each figure's unit joined in SQL: a map of every published delivery's unit, built in Python,
    # held ~300 bytes a delivery of the month (30–40 MB at 100,000, each /metrics refresh: the
    # tracker's RSS steps in docs/benchmarks.md, session 37).
    newest = engagement.newest(posts).subquery()
    figures = select(newest, contents.c.unit).select_from(
        newest.outerjoin(contents, contents.c.id == newest.c.content_id)
    )
    async with engine.connect() as conn:
        async for r in await conn.stream(query):
            unit = r.unit or UNKNOWN_UNIT
            row = rows[(unit, r.channel)]
            row.deliveries += 1
            row.failed += r.state in FAILURE_STATES
            row.retracted += r.state == DeliveryState.RETRACTED
            if r.published_at is not None:
                row.published += 1
                latency = latency_s(r.published_at, r.due_at, r.approved_at)
                row.on_time += latency is not None and on_time(latency, on_time_s)
        async for f in await conn.stream(figures):
            row = rows[(f.unit or UNKNOWN_UNIT, f.channel)]
            row.figures[f.metric] = row.figures.get(f.metric, 0) + int(f.value)
            row.posts_read.add((f.content_id, f.account))
        for key, heard in (await listening(conn, span.since, span.until, units)).items():
            rows[key].heard = heard
    return Report(
        first_day=span.first,
        last_day=span.last,
        since=span.since,
        until=span.until,
        on_time_window_s=on_time_s,
        rows=[rows[k].out(*k) for k in sorted(rows)],
    )

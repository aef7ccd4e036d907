"""The read side: what the API and the dashboard show."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import DEFAULT_TIMEZONE, DeliveryState, Priority, utcnow
from services.tracker.ingest import search_text
from services.tracker.tables import content_history, contents, deliveries, delivery_history
from services.tracker.views import (
    ContentDetail,
    ContentSummary,
    CorrectionLink,
    DeliveryOut,
    FailureCause,
    GroupStats,
    LastError,
    Page,
    Stats,
    TimelineEntry,
)

PROBLEM_STATES = (
    DeliveryState.FAILED,
    DeliveryState.NEEDS_ATTENTION,
    DeliveryState.RETRACT_FAILED,
    DeliveryState.RETRYING,
)
FAILURE_STATES = (DeliveryState.FAILED, DeliveryState.NEEDS_ATTENTION, DeliveryState.RETRACT_FAILED)
UNKNOWN_UNIT = "—"


@dataclass(frozen=True)
class DeliveryFilter:
    states: Sequence[DeliveryState] = ()
    channel: str | None = None
    account: str | None = None
    unit: str | None = None
    content_id: str | None = None
    approved_since: datetime | None = None
    approved_until: datetime | None = None
    units: frozenset[str] | None = None
    """Only contents of these units (``loa.access.policy.Policy.units_for``); ``None``: every unit."""


def _in_units(units: frozenset[str] | None) -> list[ColumnElement[bool]]:
    """The per-unit view: a content of no recorded unit is shown only to who sees every unit."""
    return [] if units is None else [contents.c.unit.in_(sorted(units))]


def _delivery_select() -> Select[Any]:
    content = (contents.c.unit, contents.c.title, contents.c.approved_at, contents.c.priority)
    return select(deliveries, *content).select_from(
        deliveries.outerjoin(contents, contents.c.id == deliveries.c.content_id)
    )


def _delivery_out(row: Any) -> DeliveryOut:
    m = row._mapping
    last_error = (
        LastError(error_class=m["error_class"], code=m["error_code"], message=m["error_message"])
        if m["error_class"]
        else None
    )
    return DeliveryOut(
        id=m["id"],
        content_id=m["content_id"],
        channel=m["channel"],
        account=m["account"],
        version=m["version"],
        state=m["state"],
        sequence=m["sequence"],
        attempt=m["attempt"],
        due_at=m["due_at"],
        state_at=m["state_at"],
        published_at=m["published_at"],
        external_id=m["external_id"],
        public_url=m["public_url"],
        target_host=m["target_host"],
        last_error=last_error,
        note=m["note"],
        unit=m["unit"],
        title=m["title"],
        approved_at=m["approved_at"],
        priority=m["priority"] or Priority.NORMAL,
    )


def _delivery_where(f: DeliveryFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = _in_units(f.units)
    if f.states:
        where.append(deliveries.c.state.in_([s.value for s in f.states]))
    if f.channel:
        where.append(deliveries.c.channel == f.channel)
    if f.account:
        where.append(deliveries.c.account == f.account)
    if f.unit:
        where.append(contents.c.unit == f.unit)
    if f.content_id:
        where.append(deliveries.c.content_id == f.content_id)
    if f.approved_since:
        where.append(contents.c.approved_at >= f.approved_since)
    if f.approved_until:
        where.append(contents.c.approved_at < f.approved_until)
    return where


async def list_deliveries(
    engine: AsyncEngine, f: DeliveryFilter, page: int = 1, page_size: int = 50
) -> Page[DeliveryOut]:
    where = _delivery_where(f)
    base = deliveries.outerjoin(contents, contents.c.id == deliveries.c.content_id)
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(base).where(*where))).scalar_one()
        rows = await conn.execute(
            _delivery_select()
            .where(*where)
            .order_by(deliveries.c.state_at.desc(), deliveries.c.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        items = [_delivery_out(r) for r in rows]
    return Page[DeliveryOut](items=items, total=total, page=page, page_size=page_size)


@dataclass(frozen=True)
class ContentFilter:
    q: str | None = None
    unit: str | None = None
    channel: str | None = None
    state: DeliveryState | None = None
    since: datetime | None = None
    until: datetime | None = None
    units: frozenset[str] | None = None
    """Only contents of these units; ``None``: every unit."""


def _content_where(f: ContentFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = _in_units(f.units)
    if f.q:  # every word, in any order: "dinh chinh tu phap" finds "Đính chính: ... Sở Tư pháp"
        words = search_text(f.q).split()
        where += [contents.c.search_text.contains(word, autoescape=True) for word in words]
    if f.unit:
        where.append(contents.c.unit == f.unit)
    if f.since:
        where.append(contents.c.approved_at >= f.since)
    if f.until:
        where.append(contents.c.approved_at < f.until)
    if f.channel or f.state:
        cond = [deliveries.c.content_id == contents.c.id]
        if f.channel:
            cond.append(deliveries.c.channel == f.channel)
        if f.state:
            cond.append(deliveries.c.state == f.state.value)
        where.append(exists().where(and_(*cond)))
    return where


async def _state_counts(conn: Any, ids: Sequence[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if ids:
        rows = await conn.execute(
            select(deliveries.c.content_id, deliveries.c.state, func.count())
            .where(deliveries.c.content_id.in_(ids))
            .group_by(deliveries.c.content_id, deliveries.c.state)
        )
        for content_id, state, n in rows:
            counts[content_id][state] = n
    return counts


def _summary_fields(m: Any) -> dict[str, Any]:
    return {
        "id": m["id"],
        "title": m["title"],
        "unit": m["unit"],
        "version": m["version"],
        "approved_by": m["approved_by"],
        "approved_at": m["approved_at"],
        "publish_at": m["publish_at"],
        "retracted_at": m["retracted_at"],
        "priority": m["priority"],
    }


async def list_contents(
    engine: AsyncEngine, f: ContentFilter, page: int = 1, page_size: int = 50
) -> Page[ContentSummary]:
    where = _content_where(f)
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(contents).where(*where))).scalar_one()
        rows = (
            await conn.execute(
                select(contents)
                .where(*where)
                .order_by(contents.c.approved_at.desc(), contents.c.id)
                .limit(page_size)
                .offset((page - 1) * page_size)
            )
        ).all()
        counts = await _state_counts(conn, [r.id for r in rows])
    items = [ContentSummary(**_summary_fields(r._mapping), states=counts.get(r.id, {})) for r in rows]
    return Page[ContentSummary](items=items, total=total, page=page, page_size=page_size)


DETAIL_FIELDS = ("approver_claim", "kind", "canonical_url", "retracted_by", "retract_reason")


async def get_content(
    engine: AsyncEngine, content_id: str, units: frozenset[str] | None = None
) -> ContentDetail | None:
    """The content, every delivery, the timeline across channels, and the corrections linking it
    to others (of ``units`` only: ``None`` means every unit); None if never heard of."""
    async with engine.connect() as conn:
        content = (await conn.execute(select(contents).where(contents.c.id == content_id))).first()
        rows = await conn.execute(
            _delivery_select().where(deliveries.c.content_id == content_id).order_by(deliveries.c.id)
        )
        items = [_delivery_out(r) for r in rows]
        if content is None and not items:
            return None
        timeline = await content_timeline(conn, content_id)
        corrects = content._mapping["corrects"] if content is not None else None
        links = await _corrections(conn, content_id, corrects, units)
    states = dict(Counter(d.state.value for d in items))
    if content is None:
        fields: dict[str, Any] = dict.fromkeys(
            ("title", "unit", "version", "approved_by", "approved_at", "publish_at", "retracted_at")
        ) | {"priority": Priority.NORMAL}
        fields["id"] = content_id
        extra: dict[str, Any] = dict.fromkeys(DETAIL_FIELDS)
    else:
        m = content._mapping
        fields = _summary_fields(m)
        extra = {k: m[k] for k in DETAIL_FIELDS}
    return ContentDetail(**fields, **extra, states=states, deliveries=items, timeline=timeline, **links)


async def _corrections(
    conn: Any, content_id: str, corrects: str | None, units: frozenset[str] | None
) -> dict[str, Any]:
    """``corrects`` (the original a correction names) and ``corrected_by`` (each correction of this
    content, with its deliveries), both limited to ``units``."""
    linked = select(contents.c.id, contents.c.title, contents.c.approved_at, contents.c.retracted_at)
    original = None
    if corrects is not None:
        row = (await conn.execute(linked.where(contents.c.id == corrects, *_in_units(units)))).first()
        original = CorrectionLink(**row._mapping) if row else CorrectionLink(id=corrects, title=None)
    rows = (
        await conn.execute(
            linked.where(contents.c.corrects == content_id, *_in_units(units)).order_by(
                contents.c.approved_at, contents.c.id
            )
        )
    ).all()
    by_id = {r.id: CorrectionLink(**r._mapping) for r in rows}
    if by_id:
        found = await conn.execute(
            _delivery_select().where(deliveries.c.content_id.in_(sorted(by_id))).order_by(deliveries.c.id)
        )
        for d in map(_delivery_out, found):
            by_id[d.content_id].deliveries.append(d)
    return {"corrects": original, "corrected_by": list(by_id.values())}


def history_entry(r: Any) -> TimelineEntry:
    """A delivery's step, from its ``delivery_history`` row: the platform's answer, id, link, error."""
    _, channel, account = r.delivery_id.split(":", 2)
    return TimelineEntry(
        at=r.occurred_at,
        kind="delivery.status",
        actor=r.producer,
        channel=channel,
        account=account,
        state=r.state,
        attempt=r.attempt,
        sequence=r.sequence,
        external_id=r.external_id,
        public_url=r.public_url,
        error_class=r.error_class,
        error_code=r.error_code,
        message=r.error_message or r.note,
        excerpt=r.error_excerpt,
    )


async def content_timeline(conn: Any, content_id: str) -> list[TimelineEntry]:
    entries: list[tuple[datetime, int, TimelineEntry]] = []
    rows = await conn.execute(
        select(delivery_history, deliveries.c.channel, deliveries.c.account)
        .select_from(
            delivery_history.outerjoin(deliveries, deliveries.c.id == delivery_history.c.delivery_id)
        )
        .where(delivery_history.c.content_id == content_id)
    )
    for r in rows:
        entries.append((r.occurred_at, r.sequence, history_entry(r)))
    rows = await conn.execute(select(content_history).where(content_history.c.content_id == content_id))
    for r in rows:
        entry = TimelineEntry(
            at=r.occurred_at,
            kind=r.type,
            actor=r.actor,
            channel=r.channel,
            account=r.account,
            message=r.detail,
        )
        entries.append((r.occurred_at, -1, entry))
    entries.sort(key=lambda e: (e[0], e[2].channel or "", e[1]))
    return [e[2] for e in entries]


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _Group:
    counts: Counter[str]
    latencies: list[float]
    on_time: int = 0

    def out(self, key: str) -> GroupStats:
        published = len(self.latencies)
        return GroupStats(
            key=key,
            total=sum(self.counts.values()),
            counts=dict(self.counts),
            published=published,
            on_time=self.on_time,
            on_time_rate=round(self.on_time / published, 4) if published else None,
            latency_p50_s=percentile(self.latencies, 50),
            latency_p95_s=percentile(self.latencies, 95),
        )


def latency_s(
    published_at: datetime | None, due_at: datetime | None, approved_at: datetime | None
) -> float | None:
    """Seconds from when a delivery was due (its scheduled time, else its content's approval) to its
    publication; negative when it went out early; ``None`` until it is published."""
    start = due_at or approved_at
    return (published_at - start).total_seconds() if published_at and start else None


def on_time(latency: float, window_s: float) -> bool:
    """The on-time rule of the stats and the leadership reports: published at most ``window_s``
    (``LOA_TRACKER_ON_TIME_S``, 60 s by default) after it was due, the bound included; early counts."""
    return latency <= window_s


def reference_time() -> ColumnElement[datetime]:
    """When a delivery was due: its due time, else the approval, else when the tracker first saw it."""
    return func.coalesce(deliveries.c.due_at, contents.c.approved_at, deliveries.c.first_seen_at)


async def stats(
    engine: AsyncEngine,
    since: datetime | None,
    until: datetime | None,
    on_time_s: float = 60.0,
    units: frozenset[str] | None = None,
) -> Stats:
    """Per channel and per unit: counts by state, on-time rate, latency p50/p95; failure causes."""
    ref = reference_time()
    where = _in_units(units)
    if since:
        where.append(ref >= since)
    if until:
        where.append(ref < until)
    query = (
        select(
            deliveries.c.channel,
            contents.c.unit,
            deliveries.c.state,
            deliveries.c.due_at,
            contents.c.approved_at,
            deliveries.c.published_at,
            deliveries.c.error_class,
            deliveries.c.error_code,
            deliveries.c.error_message,
        )
        .select_from(deliveries.outerjoin(contents, contents.c.id == deliveries.c.content_id))
        .where(*where)
    )
    by_channel: dict[str, _Group] = {}
    by_unit: dict[str, _Group] = {}
    causes: dict[tuple[str, str, str | None], list[Any]] = {}
    async with engine.connect() as conn:
        result = await conn.stream(query)
        async for r in result:
            groups = (
                by_channel.setdefault(r.channel, _Group(Counter(), [])),
                by_unit.setdefault(r.unit or UNKNOWN_UNIT, _Group(Counter(), [])),
            )
            latency = latency_s(r.published_at, r.due_at, r.approved_at)
            for g in groups:
                g.counts[r.state] += 1
                if r.state == DeliveryState.PUBLISHED and latency is not None:
                    g.latencies.append(max(0.0, latency))
                    g.on_time += on_time(latency, on_time_s)
            if r.state in FAILURE_STATES and r.error_class:
                key = (r.channel, r.error_class, r.error_code)
                entry = causes.setdefault(key, [0, r.error_message])
                entry[0] += 1
    failure_causes = sorted(
        (
            FailureCause(channel=k[0], error_class=k[1], code=k[2], count=v[0], example=v[1])
            for k, v in causes.items()
        ),
        key=lambda c: (-c.count, c.channel, c.error_class, c.code or ""),
    )
    return Stats(
        since=since,
        until=until,
        on_time_window_s=on_time_s,
        by_channel=[g.out(k) for k, g in sorted(by_channel.items())],
        by_unit=[g.out(k) for k, g in sorted(by_unit.items())],
        failure_causes=failure_causes,
    )


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in Asia/Ho_Chi_Minh: where the office's days begin."""
    return datetime.combine(day, time.min, tzinfo=DEFAULT_TIMEZONE)


def today(now: datetime | None = None) -> date:
    """The office's day now (Asia/Ho_Chi_Minh)."""
    return (now or utcnow()).astimezone(DEFAULT_TIMEZONE).date()


def start_of_today(now: datetime | None = None) -> datetime:
    """Midnight today in Asia/Ho_Chi_Minh: the office's day."""
    return day_start(today(now))


@dataclass
class ChannelOverview:
    channel: str
    published_today: int = 0
    scheduled: int = 0
    in_progress: int = 0
    failing: int = 0
    needs_attention: int = 0
    held: int = 0


async def overview(
    engine: AsyncEngine, now: datetime | None = None, units: frozenset[str] | None = None
) -> list[ChannelOverview]:
    """Per channel: published today, scheduled, in progress, failing, needs attention, held."""
    today = start_of_today(now)
    out: dict[str, ChannelOverview] = {}
    joined = deliveries.outerjoin(contents, contents.c.id == deliveries.c.content_id)
    seen = _in_units(units)
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.channel, deliveries.c.state, func.count())
            .select_from(joined)
            .where(*seen)
            .group_by(deliveries.c.channel, deliveries.c.state)
        )
        for channel, state, n in rows:
            o = out.setdefault(channel, ChannelOverview(channel))
            if state in (DeliveryState.SCHEDULED, DeliveryState.RECEIVED):
                o.scheduled += n
            elif state in (DeliveryState.PUBLISHING, DeliveryState.RETRYING, DeliveryState.RETRACTING):
                o.in_progress += n
            elif state in (DeliveryState.FAILED, DeliveryState.RETRACT_FAILED):
                o.failing += n
            elif state == DeliveryState.NEEDS_ATTENTION:
                o.needs_attention += n
            elif state == DeliveryState.HELD:
                o.held += n
        rows = await conn.execute(
            select(deliveries.c.channel, func.count())
            .select_from(joined)
            .where(
                deliveries.c.state == DeliveryState.PUBLISHED.value, deliveries.c.published_at >= today, *seen
            )
            .group_by(deliveries.c.channel)
        )
        for channel, n in rows:
            out.setdefault(channel, ChannelOverview(channel)).published_today = n
    return [out[k] for k in sorted(out)]


async def problems(
    engine: AsyncEngine, limit: int = 200, units: frozenset[str] | None = None
) -> list[DeliveryOut]:
    """Deliveries that need a human or are being retried, most recent first."""
    page = await list_deliveries(engine, DeliveryFilter(states=PROBLEM_STATES, units=units), page_size=limit)
    return page.items


async def visible_ids(engine: AsyncEngine, ids: set[str], units: frozenset[str] | None) -> set[str]:
    """The content ids among ``ids`` whose unit is one of ``units`` (``None``: all of them)."""
    if units is None or not ids:
        return set(ids)
    query = select(contents.c.id).where(contents.c.id.in_(sorted(ids)), *_in_units(units))
    async with engine.connect() as conn:
        return set((await conn.execute(query)).scalars())


async def units(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(contents.c.unit).distinct().order_by(contents.c.unit))
        return [r[0] for r in rows]


async def delivery_counts(engine: AsyncEngine) -> list[tuple[str, str, int]]:
    """(channel, state, count) over every delivery: the ``/metrics`` gauge."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
                deliveries.c.channel, deliveries.c.state
            )
        )
        return [(c, s, n) for c, s, n in rows]


async def find_delivery(engine: AsyncEngine, did: str) -> DeliveryOut | None:
    async with engine.connect() as conn:
        row = (await conn.execute(_delivery_select().where(deliveries.c.id == did))).first()
    return _delivery_out(row) if row else None


DAY = timedelta(days=1)

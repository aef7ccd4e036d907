"""What an incident groups, and how long each of its steps took: derived, not recorded.

The rule (docs/architecture.md, "Incidents"): while an incident is open (opened → closed, or now),
it groups, in its units and their children,

- the **holds** placed then whose scope is one of those units or no unit (everything, a channel, an
  account), with their release, and every delivery of the units that turned ``held`` meanwhile,
  followed to where it went after;
- the **corrections** (``kind: correction``) and **urgent** contents (``priority: urgent``) approved
  then, from their approval on;
- the **retractions** requested then, from the request on;
- its **notes**, opening and closing.

A grouped content's steps are followed after the incident closes (a retraction finishing later
still shows), so a report downloaded later may show more than one downloaded at the close.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import ContentKind, DeliveryState, Priority, utcnow
from services.tracker.holds import as_hold, scope_of
from services.tracker.incidents import IncidentOut
from services.tracker.queries import content_timeline, history_entry
from services.tracker.tables import contents, delivery_history, holds
from services.tracker.views import HoldOut, TimelineEntry

MAX_HELD_STEPS = 5000
"""Held deliveries' steps one incident shows (a hold of everything may keep thousands)."""


class IncidentStep(TimelineEntry):
    content_id: str | None = None
    title: str | None = None
    grouped_as: str | None = None
    """Why it belongs to the incident: ``correction``, ``urgent``, ``retraction``, ``hold``."""
    hold_id: str | None = None


class StepDuration(BaseModel):
    step: str
    """``hold_effective`` (hold → ``held`` on a channel), ``correction_published``, ``urgent_published``
    (approved → published), ``retracted`` (requested → retracted)."""
    subject: str
    """The hold id or the content id."""
    title: str | None
    channel: str
    account: str | None
    started_at: datetime
    ended_at: datetime | None
    """None: not yet (nothing reached the state)."""
    seconds: float | None


class IncidentDetail(IncidentOut):
    steps: list[IncidentStep]
    durations: list[StepDuration]


def _window(incident: IncidentOut, column: Any) -> Any:
    end = incident.closed_at or utcnow()
    return and_(column >= incident.opened_at, column <= end)


async def gather(engine: AsyncEngine, incident: IncidentOut, units: frozenset[str]) -> IncidentDetail:
    """The incident with its steps in time order and its durations; ``units``: its units' subtree."""
    steps = _own_steps(incident)
    durations: list[StepDuration] = []
    async with engine.connect() as conn:
        placed = await _holds(conn, incident, units)
        for h in placed:
            steps += _hold_steps(h)
        held_rows = await _held_history(conn, incident, units)
        steps += [_delivery_step(r, "hold") for r in held_rows]
        for h in placed:
            durations += _hold_effective(h, held_rows)
        for c, reasons in await _grouped_contents(conn, incident, units):
            since = c.approved_at if reasons - {"retraction"} else c.retracted_at
            entries = [e for e in await content_timeline(conn, c.id) if e.at >= since]
            as_what = ",".join(sorted(reasons))
            steps += [
                IncidentStep(**e.model_dump(), content_id=c.id, title=c.title, grouped_as=as_what)
                for e in entries
            ]
            durations += _content_durations(c, reasons, entries)
    steps.sort(key=lambda s: (s.at, s.channel or "", s.sequence or -1))
    return IncidentDetail(**incident.model_dump(), steps=steps, durations=durations)


def _own_steps(incident: IncidentOut) -> list[IncidentStep]:
    steps = [
        IncidentStep(
            at=incident.opened_at, kind="incident.opened", actor=incident.opened_by, message=incident.title
        )
    ]
    steps += [
        IncidentStep(at=n.at, kind="incident.note", actor=n.author, message=n.text) for n in incident.notes
    ]
    if incident.closed_at:
        steps.append(
            IncidentStep(
                at=incident.closed_at,
                kind="incident.closed",
                actor=incident.closed_by,
                message=incident.close_note,
            )
        )
    return steps


async def _holds(conn: Any, incident: IncidentOut, units: frozenset[str]) -> list[HoldOut]:
    rows = await conn.execute(
        select(holds)
        .where(
            _window(incident, holds.c.held_at), or_(holds.c.unit.is_(None), holds.c.unit.in_(sorted(units)))
        )
        .order_by(holds.c.held_at)
    )
    return [HoldOut.model_validate(r, from_attributes=True) for r in rows]


def _hold_steps(h: HoldOut) -> list[IncidentStep]:
    placed = (h.held_at, "hold.placed", h.held_by, f"{h.reason} ({scope_of(h.unit, h.channel, h.account)})")
    released = (h.released_at, "hold.released", h.released_by, h.release_reason or None)
    return [
        IncidentStep(
            at=at,
            kind=kind,
            actor=actor,
            channel=h.channel,
            account=h.account,
            message=message,
            grouped_as="hold",
            hold_id=h.id,
        )
        for at, kind, actor, message in (placed, released)
        if at is not None
    ]


async def _held_history(conn: Any, incident: IncidentOut, units: frozenset[str]) -> list[Any]:
    """Every step, from the first ``held`` on, of the units' deliveries held during the incident."""
    held = (
        select(delivery_history.c.delivery_id, delivery_history.c.occurred_at)
        .join(contents, contents.c.id == delivery_history.c.content_id)
        .where(
            delivery_history.c.state == DeliveryState.HELD.value,
            contents.c.unit.in_(sorted(units)),
            _window(incident, delivery_history.c.occurred_at),
        )
        .subquery()
    )
    rows = await conn.execute(
        select(delivery_history, contents.c.title, contents.c.unit, contents.c.approved_at)
        .join(contents, contents.c.id == delivery_history.c.content_id)
        .where(delivery_history.c.delivery_id.in_(select(held.c.delivery_id)))
        .order_by(delivery_history.c.occurred_at, delivery_history.c.sequence)
        .limit(MAX_HELD_STEPS)
    )
    first_held: dict[str, datetime] = {}
    out = []
    for r in rows:
        if r.state == DeliveryState.HELD.value and r.occurred_at >= incident.opened_at:
            first_held.setdefault(r.delivery_id, r.occurred_at)
        if r.delivery_id in first_held:
            out.append(r)
    return out


def _delivery_step(r: Any, grouped_as: str) -> IncidentStep:
    entry = history_entry(r).model_dump()
    return IncidentStep(**entry, content_id=r.content_id, title=r.title, grouped_as=grouped_as)


def _hold_effective(h: HoldOut, held_rows: Iterable[Any]) -> list[StepDuration]:
    """Per channel: the hold → the last delivery it covers (approved before it) showing ``held``."""
    rule = as_hold(h)
    last: dict[str, datetime] = {}
    for r in held_rows:
        _, channel, account = r.delivery_id.split(":", 2)
        if (
            r.state == DeliveryState.HELD.value
            and r.occurred_at >= h.held_at
            and (h.released_at is None or r.occurred_at <= h.released_at)
            and r.approved_at <= h.held_at
            and rule.covers(channel, account, r.unit)
        ):
            last[channel] = max(last.get(channel, r.occurred_at), r.occurred_at)
    return [
        StepDuration(
            step="hold_effective",
            subject=h.id,
            title=h.reason,
            channel=channel,
            account=h.account,
            started_at=h.held_at,
            ended_at=at,
            seconds=(at - h.held_at).total_seconds(),
        )
        for channel, at in sorted(last.items())
    ]


async def _grouped_contents(
    conn: Any, incident: IncidentOut, units: frozenset[str]
) -> list[tuple[Any, set[str]]]:
    rows = await conn.execute(
        select(contents)
        .where(
            contents.c.unit.in_(sorted(units)),
            or_(
                and_(
                    or_(
                        contents.c.kind == ContentKind.CORRECTION.value,
                        contents.c.priority == Priority.URGENT.value,
                    ),
                    _window(incident, contents.c.approved_at),
                ),
                _window(incident, contents.c.retracted_at),
            ),
        )
        .order_by(contents.c.approved_at)
    )
    out = []
    end = incident.closed_at or utcnow()
    for c in rows:
        reasons = set()
        if incident.opened_at <= c.approved_at <= end:
            if c.kind == ContentKind.CORRECTION.value:
                reasons.add("correction")
            if c.priority == Priority.URGENT.value:
                reasons.add("urgent")
        if c.retracted_at is not None and incident.opened_at <= c.retracted_at <= end:
            reasons.add("retraction")
        out.append((c, reasons))
    return out


def _content_durations(c: Any, reasons: set[str], entries: list[TimelineEntry]) -> list[StepDuration]:
    """Per delivery: approved → first ``published`` (corrections, urgent), requested → ``retracted``."""
    firsts: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)
    for e in entries:
        if e.kind == "delivery.status" and e.channel and e.account and e.state:
            firsts[(e.channel, e.account)].setdefault(e.state.value, e.at)
    measured = {
        "correction": ("correction_published", c.approved_at, DeliveryState.PUBLISHED),
        "urgent": ("urgent_published", c.approved_at, DeliveryState.PUBLISHED),
        "retraction": ("retracted", c.retracted_at, DeliveryState.RETRACTED),
    }
    out = []
    for reason in sorted(reasons):
        step, start, state = measured[reason]
        for (channel, account), seen in sorted(firsts.items()):
            end = seen.get(state.value)
            ended = end if end is not None and end >= start else None
            out.append(
                StepDuration(
                    step=step,
                    subject=c.id,
                    title=c.title,
                    channel=channel,
                    account=account,
                    started_at=start,
                    ended_at=ended,
                    seconds=(ended - start).total_seconds() if ended else None,
                )
            )
    return out

"""The write side: apply batches of status and content events, idempotently, in sequence order.

A delivery's current row only moves forward: the upsert's ``WHERE deliveries.sequence <
excluded.sequence`` makes a late or repeated event a no-op, and history rows are unique on
(delivery, sequence), so a redelivered batch writes nothing twice.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.db import dialect_insert, is_sqlite, transaction, upsert
from loa.events import (
    Content,
    ContentApproved,
    ContentEvent,
    ContentRetracted,
    DeliveryState,
    DeliveryStatus,
    ErrorClass,
    Retraction,
    Target,
    delivery_id,
    utcnow,
)
from loa.text import fold_vietnamese
from services.tracker.dialect import pg_bulk_insert
from services.tracker.settings import AlertHook
from services.tracker.tables import (
    alerts_outbox,
    content_history,
    contents,
    deliveries,
    delivery_history,
    delivery_recipients,
)

EXCERPT_MAX = 2000
"""A bounded excerpt of the platform's answer is enough for the audit trail."""
ALERT_NAMESPACE = uuid.UUID("6f1c8a52-3d1e-4b7a-9a51-1c0de7a1e47f")
_IN_CHUNK = 1000


@dataclass(frozen=True)
class Transition:
    """A status event that moved a delivery forward (not a late or repeated one)."""

    status: DeliveryStatus
    unit: str | None
    approved_at: datetime | None


@dataclass
class Applied:
    """What one batch changed: for live updates, metrics and logs."""

    content_ids: set[str] = field(default_factory=set)
    transitions: list[Transition] = field(default_factory=list)
    stale: int = 0


def search_text(*parts: str) -> str:
    """Lower-case, diacritics folded: ``Đà Nẵng`` is found by ``da nang`` and by ``Đà``."""
    return " ".join(fold_vietnamese(p).lower() for p in parts)


async def _sequences(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, int]:
    """The current sequence of each known delivery among ``ids``."""
    known: dict[str, int] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        rows = await conn.execute(
            select(deliveries.c.id, deliveries.c.sequence).where(deliveries.c.id.in_(chunk))
        )
        known.update({row.id: row.sequence for row in rows})
    return known


async def _owners(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, tuple[str, datetime]]:
    """The unit and approval time of each known content among ``ids``."""
    known: dict[str, tuple[str, datetime]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        rows = await conn.execute(
            select(contents.c.id, contents.c.unit, contents.c.approved_at).where(contents.c.id.in_(chunk))
        )
        known.update({row.id: (row.unit, row.approved_at) for row in rows})
    return known


def _history_row(status: DeliveryStatus, now: datetime) -> dict[str, object]:
    d = status.payload
    error = d.error
    return {
        "delivery_id": d.delivery_id,
        "content_id": d.content_id,
        "sequence": d.sequence,
        "event_id": str(status.event_id),
        "version": d.version,
        "state": d.state.value,
        "attempt": d.attempt,
        "occurred_at": status.occurred_at,
        "recorded_at": now,
        "producer": status.producer,
        "external_id": d.external_id,
        "public_url": d.public_url,
        "error_class": error.error_class.value if error else None,
        "error_code": error.code if error else None,
        "error_message": error.message if error else None,
        "error_excerpt": error.excerpt[:EXCERPT_MAX] if error and error.excerpt else None,
        "note": d.note,
    }


def _current_row(status: DeliveryStatus, published_at: datetime | None, now: datetime) -> dict[str, object]:
    d = status.payload
    error = d.error
    return {
        "id": d.delivery_id,
        "content_id": d.content_id,
        "channel": d.channel,
        "account": d.account,
        "version": d.version,
        "state": d.state.value,
        "sequence": d.sequence,
        "attempt": d.attempt,
        "due_at": d.due_at,
        "external_id": d.external_id,
        "public_url": d.public_url,
        "target_host": d.target_host,
        "error_class": error.error_class.value if error else None,
        "error_code": error.code if error else None,
        "error_message": error.message if error else None,
        "note": d.note,
        "state_at": status.occurred_at,
        "published_at": published_at,
        "first_seen_at": now,
    }


_UPDATED_ON_ADVANCE = (
    "version",
    "state",
    "sequence",
    "attempt",
    "external_id",
    "public_url",
    "target_host",
    "error_class",
    "error_code",
    "error_message",
    "note",
    "state_at",
)


_HISTORY_COLUMNS = tuple(c.name for c in delivery_history.c if c.name != "id")
_CURRENT_COLUMNS = tuple(c.name for c in deliveries.c)


async def _write_history(conn: AsyncConnection, rows: list[dict[str, object]]) -> None:
    """Append-only; a (delivery, sequence) seen before is skipped, so redelivery writes nothing."""
    if not is_sqlite(conn):
        await pg_bulk_insert(conn, delivery_history, _HISTORY_COLUMNS, rows, "ON CONFLICT DO NOTHING")
    else:
        await conn.execute(upsert(conn, delivery_history).on_conflict_do_nothing(), rows)


async def _advance(conn: AsyncConnection, rows: list[dict[str, object]]) -> None:
    """Upsert current rows, only where the stored sequence is lower: never backwards."""
    if not rows:
        return
    if not is_sqlite(conn):
        updates = [f"{name} = EXCLUDED.{name}" for name in _UPDATED_ON_ADVANCE]
        updates.append("due_at = COALESCE(EXCLUDED.due_at, deliveries.due_at)")
        updates.append("published_at = COALESCE(deliveries.published_at, EXCLUDED.published_at)")
        tail = (
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(updates)} "
            "WHERE deliveries.sequence < EXCLUDED.sequence"
        )
        await pg_bulk_insert(conn, deliveries, _CURRENT_COLUMNS, rows, tail)
        return
    await conn.execute(_sqlite_advance(), rows)


@functools.cache
def _sqlite_advance() -> Executable:
    """SQLite's upsert of current rows, built once: building its ``excluded`` columns anew was a
    third of the write's fixed cost per batch (~0.4 ms of ~1.6; cProfile, docs/benchmarks.md)."""
    stmt = dialect_insert(True, deliveries)
    excluded = stmt.excluded
    set_: dict[str, ColumnElement[Any]] = {name: excluded[name] for name in _UPDATED_ON_ADVANCE}
    set_["due_at"] = func.coalesce(excluded.due_at, deliveries.c.due_at)
    set_["published_at"] = func.coalesce(deliveries.c.published_at, excluded.published_at)
    return stmt.on_conflict_do_update(
        index_elements=[deliveries.c.id], set_=set_, where=deliveries.c.sequence < excluded.sequence
    )


def _report_row(status: DeliveryStatus) -> dict[str, object]:
    d = status.payload
    assert d.recipients is not None
    return {"delivery_id": d.delivery_id, "sequence": d.sequence, "report": d.recipients.model_dump_json()}


async def _write_reports(conn: AsyncConnection, rows: list[dict[str, object]]) -> None:
    """The newest per-recipient report of each delivery; like the current row, never backwards."""
    if not rows:
        return
    stmt = upsert(conn, delivery_recipients)
    excluded = stmt.excluded
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[delivery_recipients.c.delivery_id],
            set_={"sequence": excluded.sequence, "report": excluded.report},
            where=delivery_recipients.c.sequence < excluded.sequence,
        ),
        rows,
    )


async def apply_statuses(
    bind: AsyncEngine | AsyncConnection, batch: Iterable[DeliveryStatus], hooks: Sequence[AlertHook] = ()
) -> Applied:
    """Apply a batch of status events in one transaction (the connection's, when given one);
    returns what moved forward."""
    now = utcnow()
    by_delivery: dict[str, dict[int, DeliveryStatus]] = {}
    for status in batch:
        by_delivery.setdefault(status.payload.delivery_id, {}).setdefault(status.payload.sequence, status)
    applied = Applied()
    if not by_delivery:
        return applied
    async with transaction(bind) as conn:
        sequences = await _sequences(conn, sorted(by_delivery))
        # units and approval times only matter for alerts and the publish-latency histogram
        published = DeliveryState.PUBLISHED
        wants_owners = bool(hooks) or any(
            e.payload.state is published for events in by_delivery.values() for e in events.values()
        )
        content_ids = sorted({d.split(":", 1)[0] for d in by_delivery})
        owners = await _owners(conn, content_ids) if wants_owners else {}
        history: list[dict[str, object]] = []
        current: list[dict[str, object]] = []
        reports: list[dict[str, object]] = []
        late_published: list[tuple[str, datetime]] = []
        for did, events in by_delivery.items():
            floor = sequences.get(did, -1)
            ordered = [events[s] for s in sorted(events)]
            history.extend(_history_row(s, now) for s in ordered)
            first_published = min(
                (s.occurred_at for s in ordered if s.payload.state is DeliveryState.PUBLISHED), default=None
            )
            winner = ordered[-1]
            applied.content_ids.add(winner.payload.content_id)
            fresh = [s for s in ordered if s.payload.sequence > floor]
            applied.stale += len(ordered) - len(fresh)
            unit, approved_at = owners.get(winner.payload.content_id, (None, None))
            applied.transitions.extend(Transition(s, unit, approved_at) for s in fresh)
            if fresh:
                current.append(_current_row(winner, first_published, now))
            elif first_published is not None:
                late_published.append((did, first_published))
            reports.extend(_report_row(s) for s in [s for s in ordered if s.payload.recipients][-1:])
        await _write_history(conn, history)
        await _advance(conn, current)
        await _write_reports(conn, reports)
        for did, published_at in late_published:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == did, deliveries.c.published_at.is_(None))
                .values(published_at=published_at)
            )
        outbox = _alerts(applied.transitions, hooks, now)
        if outbox:
            await conn.execute(upsert(conn, alerts_outbox).on_conflict_do_nothing(), outbox)
    return applied


def _alerts(
    transitions: Sequence[Transition], hooks: Sequence[AlertHook], now: datetime
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for t in transitions:
        d = t.status.payload
        for hook in hooks:
            if not hook.wants(d.state.value, t.unit):
                continue
            event_id = uuid.uuid5(ALERT_NAMESPACE, f"{t.status.event_id}:{hook.name}")
            payload = {
                "event_id": str(event_id),
                "type": "delivery.alert",
                "occurred_at": t.status.occurred_at.isoformat(),
                "delivery_id": d.delivery_id,
                "content_id": d.content_id,
                "channel": d.channel,
                "account": d.account,
                "unit": t.unit,
                "state": d.state.value,
                "attempt": d.attempt,
                "error": d.error.model_dump(mode="json") if d.error else None,
                "status_event_id": str(t.status.event_id),
            }
            rows.append(
                {
                    "event_id": str(event_id),
                    "hook": hook.name,
                    "payload": json.dumps(payload, ensure_ascii=False),
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "given_up": False,
                }
            )
    return rows


async def apply_content_events(
    bind: AsyncEngine | AsyncConnection, batch: Iterable[ContentEvent], channels: frozenset[str] | None = None
) -> set[str]:
    """Record approvals, updates and retractions (the audit trail) in one transaction (the
    connection's, when given one); returns the content ids.

    A target on a channel outside ``channels`` (when given) is recorded as ``failed``: no publisher
    will ever report on it. The approvals between two retractions are written together, three
    statements for all of them (a statement per event cost a quarter of the tracker's CPU in the
    e2e bench: py-spy, docs/benchmarks.md); a retraction is applied in its place in the order.
    """
    now = utcnow()
    touched: set[str] = set()
    approvals: list[ContentEvent] = []
    async with transaction(bind) as conn:
        for event in batch:
            touched.add(event.payload.id)
            if isinstance(event, ContentRetracted):
                await _approved(conn, approvals, now, channels)
                approvals = []
                await _retracted(conn, event)
            else:
                approvals.append(event)
        await _approved(conn, approvals, now, channels)
    return touched


async def _approved(
    conn: AsyncConnection, events: Sequence[ContentEvent], now: datetime, channels: frozenset[str] | None
) -> None:
    """Approvals and updates, in order: as if written one by one (a content's row takes the newest
    version, the later of equal ones; every event is in the history; a delivery's placeholder is
    the first event's)."""
    if not events:
        return
    newest: dict[str, Content] = {}
    placeholders: dict[str, dict[str, object]] = {}
    for event in events:
        assert not isinstance(event, ContentRetracted)
        c = event.payload
        if c.id not in newest or c.version >= newest[c.id].version:
            newest[c.id] = c
        for t in c.targets:
            did = delivery_id(c.id, t.channel, t.account)
            if did not in placeholders:
                placeholders[did] = _placeholder(did, event, t, now, channels)
    rows = [_content_row(c, now) for c in newest.values()]
    history = [_approval_history(event) for event in events]
    targets = list(placeholders.values())
    if is_sqlite(conn):
        await conn.execute(_sqlite_content_upsert(tuple(rows[0])), rows)
        await conn.execute(upsert(conn, content_history).on_conflict_do_nothing(), history)
        await conn.execute(upsert(conn, deliveries).on_conflict_do_nothing(), targets)
        return
    # One statement each whatever the batch's size (``pg_bulk_insert``): a multi-row VALUES list,
    # as SQLAlchemy sends an executemany to asyncpg, was a new statement, built and prepared anew,
    # for each batch size — the contents' upsert alone 11 % of the tracker's CPU at 30 contents/s.
    columns = tuple(rows[0])
    await pg_bulk_insert(conn, contents, columns, rows, _pg_content_tail(columns))
    await pg_bulk_insert(conn, content_history, tuple(history[0]), history, "ON CONFLICT DO NOTHING")
    if targets:
        await pg_bulk_insert(conn, deliveries, tuple(targets[0]), targets, "ON CONFLICT DO NOTHING")


def _content_row(c: Content, now: datetime) -> dict[str, object]:
    return {
        "id": c.id,
        "version": c.version,
        "title": c.title,
        "search_text": search_text(c.id, c.title),
        "unit": c.unit,
        "kind": c.kind.value,
        "corrects": c.corrects,
        "priority": c.priority.value,
        "approved_by": c.approved_by,
        "approver_claim": c.approver_claim,
        "approved_at": c.approved_at,
        "publish_at": c.publish_at,
        "canonical_url": str(c.canonical_url) if c.canonical_url else None,
        "targets": [t.model_dump(mode="json", include={"channel", "account"}) for t in c.targets],
        "updated_at": now,
    }


@functools.cache
def _pg_content_tail(columns: tuple[str, ...]) -> str:
    """PostgreSQL's ``_sqlite_content_upsert``: the row replaced by an event of the same or a newer
    version."""
    changing = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name != "id")
    return f"ON CONFLICT (id) DO UPDATE SET {changing} WHERE contents.version <= EXCLUDED.version"


@functools.cache
def _sqlite_content_upsert(columns: tuple[str, ...]) -> Any:
    """A content's row, replaced by an event of the same or a newer version (built once: building
    it, ``excluded`` and its column collection, was most of an approval's CPU)."""
    stmt = dialect_insert(True, contents)
    changing = {k: stmt.excluded[k] for k in columns if k != "id"}
    return stmt.on_conflict_do_update(
        index_elements=[contents.c.id], set_=changing, where=contents.c.version <= stmt.excluded.version
    )


def _approval_history(event: ContentEvent) -> dict[str, object]:
    c = event.payload
    assert not isinstance(c, Retraction)
    return {
        "event_id": str(event.event_id),
        "content_id": c.id,
        "type": event.type,
        "version": c.version,
        "actor": c.approved_by if isinstance(event, ContentApproved) else event.producer,
        # an approval is shown when it was approved, not when the event was sent
        "occurred_at": c.approved_at if isinstance(event, ContentApproved) else event.occurred_at,
        "detail": _targets_text(c),
    }


def _placeholder(
    did: str, event: ContentEvent, t: Target, now: datetime, channels: frozenset[str] | None
) -> dict[str, object]:
    """Every target is a delivery from the moment it is approved: one no publisher has picked up
    yet shows as ``received`` with sequence 0, which any real status event replaces."""
    c = event.payload
    assert not isinstance(c, Retraction)
    return {
        "id": did,
        "content_id": c.id,
        "channel": t.channel,
        "account": t.account,
        "version": c.version,
        "state": DeliveryState.RECEIVED.value,
        "sequence": 0,
        "attempt": 0,
        "due_at": c.publish_at or c.approved_at,
        "state_at": event.occurred_at,
        "first_seen_at": now,
        "error_class": None,
        "error_code": None,
        "error_message": None,
    } | (_no_publisher(t.channel) if channels is not None and t.channel not in channels else {})


def _no_publisher(channel: str) -> dict[str, object]:
    """A target nobody will publish: failed at once, rather than ``received`` forever."""
    return {
        "state": DeliveryState.FAILED.value,
        "due_at": None,
        "error_class": ErrorClass.PERMANENT.value,
        "error_code": "unknown_channel",
        "error_message": f"no publisher runs channel {channel!r}; the event was dead-lettered",
    }


def _targets_text(c: Content) -> str:
    """``facebook/page-1, website/main · publish_at 2026-12-01T08:00:00+07:00``: readable in a timeline."""
    text = ", ".join(f"{t.channel}/{t.account}" for t in c.targets)
    return f"{text} · publish_at {c.publish_at.isoformat()}" if c.publish_at else text


async def _retracted(conn: AsyncConnection, event: ContentRetracted) -> None:
    r = event.payload
    await conn.execute(
        upsert(conn, content_history).on_conflict_do_nothing(),
        {
            "event_id": str(event.event_id),
            "content_id": r.id,
            "type": event.type,
            "version": None,
            "actor": r.requested_by,
            "occurred_at": event.occurred_at,
            "detail": r.reason,
        },
    )
    await conn.execute(
        update(contents)
        .where(contents.c.id == r.id, contents.c.retracted_at.is_(None))
        .values(retracted_at=event.occurred_at, retracted_by=r.requested_by, retract_reason=r.reason)
    )


async def record_action(
    engine: AsyncEngine,
    *,
    event_id: uuid.UUID,
    content_id: str,
    type_: str,
    actor: str,
    at: datetime,
    channel: str | None = None,
    account: str | None = None,
    detail: str = "",
) -> None:
    """The audit trail of what ops asked for (retry, cancel), with who and when."""
    async with engine.begin() as conn:
        await conn.execute(
            upsert(conn, content_history).on_conflict_do_nothing(),
            {
                "event_id": str(event_id),
                "content_id": content_id,
                "type": type_,
                "version": None,
                "actor": actor,
                "occurred_at": at,
                "channel": channel,
                "account": account,
                "detail": detail,
            },
        )

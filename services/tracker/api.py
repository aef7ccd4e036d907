"""REST API ``/api/v1``: contents, deliveries, stats, actions, live events, CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import AwareDatetime
from sse_starlette import EventSourceResponse, ServerSentEvent

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import (
    AuditAction,
    CancelDelivery,
    ContentRetracted,
    DeliveryCommand,
    DeliveryRef,
    DeliveryState,
    HoldCommand,
    Retraction,
    RetryDelivery,
    topics,
)
from loa.events.commands import CommentCommand
from services.tracker import queries
from services.tracker.audit_log import AuditFilter, AuditRow, export_detail, list_entries
from services.tracker.auth import check_filter, check_unit, requires, visible_units
from services.tracker.context import Tracker
from services.tracker.ingest import record_action
from services.tracker.views import (
    ActionAccepted,
    ActionRequest,
    ContentDetail,
    ContentSummary,
    DeliveryOut,
    ErrorResponse,
    Page,
    RetractRequest,
    Stats,
)

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "missing or invalid token"},
    403: {"model": ErrorResponse, "description": "no role allows this action on this unit"},
    422: {"model": ErrorResponse, "description": "a parameter is invalid"},
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Retrier = Annotated[Principal, Depends(requires(Action.RETRY))]
Canceller = Annotated[Principal, Depends(requires(Action.CANCEL))]
Retractor = Annotated[Principal, Depends(requires(Action.RETRACT))]
Auditor = Annotated[Principal, Depends(requires(Action.READ_AUDIT))]
ContentIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet of the filtered list")]
AUDIT_EXPORT_MAX = 100_000
"""Rows of one audit CSV export (every filtered row, not one page); narrow the dates for more."""
SSE_PING_S = 15
SSE_POLL_S = 5.0


def tracker(request: Request) -> Tracker:
    t: Tracker = request.app.state.tracker
    return t


Deps = Annotated[Tracker, Depends(tracker)]


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets, and a
# title or platform error is text from outside: OWASP "CSV Injection" prefixes such cells with ' .
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A cell as a spreadsheet may open it: one that would be a formula is prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[dict[str, object]], columns: list[str], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    # a BOM so spreadsheet programs read Vietnamese as UTF-8
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/contents",
    response_model=Page[ContentSummary],
    responses={200: {"content": {"text/csv": {}}}},
    summary="Contents, filtered and paged",
)
async def list_contents(
    t: Deps,
    who: Viewer,
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="words of the title or id")] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    state: DeliveryState | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
    format: Format = "json",
) -> Page[ContentSummary] | Response:
    f = queries.ContentFilter(
        q=q,
        unit=unit,
        channel=channel,
        state=state,
        since=since,
        until=until,
        units=visible_units(request, who),
    )
    result = await queries.list_contents(t.engine, f, page, page_size)
    if format == "csv":
        check_filter(request, who, Action.EXPORT, unit)
        await record(
            t.audit, actor(who, request), AuditAction.EXPORT, unit=unit, detail=export_detail("contents", f)
        )
        rows = [
            {**c.model_dump(mode="json", exclude={"states"}), "states": json.dumps(c.states)}
            for c in result.items
        ]
        return _csv(rows, [*ContentSummary.model_fields], "contents.csv")
    return result


@router.get(
    "/contents/{content_id}", response_model=ContentDetail, summary="A content, its deliveries, timeline"
)
async def get_content(t: Deps, who: Viewer, request: Request, content_id: ContentIdPath) -> ContentDetail:
    return await content_or_404(t, request, who, Action.READ, content_id)


async def content_or_404(
    t: Tracker, request: Request, who: Principal, action: Action, content_id: str
) -> ContentDetail:
    """The content if ``who`` may ``action`` on its unit: 404 if unknown, 403 if another unit's."""
    detail = await queries.get_content(t.engine, content_id, visible_units(request, who))
    if detail is None:
        raise HTTPException(404, f"no content {content_id!r}")
    check_unit(request, who, action, detail.unit)
    return detail


@router.get(
    "/deliveries",
    response_model=Page[DeliveryOut],
    responses={200: {"content": {"text/csv": {}}}},
    summary="Deliveries, e.g. everything failed or needing attention",
)
async def list_deliveries(
    t: Deps,
    who: Viewer,
    request: Request,
    state: Annotated[list[DeliveryState] | None, Query(description="repeat for several")] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    account: Annotated[str | None, Query(max_length=100)] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
    approved_since: Annotated[
        AwareDatetime | None, Query(description="only contents approved at or after this time")
    ] = None,
    approved_until: Annotated[
        AwareDatetime | None, Query(description="only contents approved before this time")
    ] = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
    format: Format = "json",
) -> Page[DeliveryOut] | Response:
    f = queries.DeliveryFilter(
        states=state or (),
        channel=channel,
        account=account,
        unit=unit,
        approved_since=approved_since,
        approved_until=approved_until,
        units=visible_units(request, who),
    )
    result = await queries.list_deliveries(t.engine, f, page, page_size)
    if format == "csv":
        check_filter(request, who, Action.EXPORT, unit)
        await record(
            t.audit, actor(who, request), AuditAction.EXPORT, unit=unit, detail=export_detail("deliveries", f)
        )
        rows = []
        for d in result.items:
            row = d.model_dump(mode="json", exclude={"last_error"})
            if d.last_error:
                row |= {f"error_{k}": v for k, v in d.last_error.model_dump(mode="json").items()}
            rows.append(row)
        columns = [*DeliveryOut.model_fields]
        columns.remove("last_error")
        return _csv(rows, [*columns, "error_error_class", "error_code", "error_message"], "deliveries.csv")
    return result


@router.get(
    "/audit",
    response_model=Page[AuditRow],
    responses={200: {"content": {"text/csv": {}}}},
    summary="The audit log, newest first (admin): who did what, on what, when, with what outcome",
)
async def list_audit(
    t: Deps,
    who: Auditor,
    request: Request,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
    action: AuditAction | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
    format: Format = "json",
) -> Page[AuditRow] | Response:
    f = AuditFilter(actor=actor_name, unit=unit, action=action, since=since, until=until)
    if format == "csv":
        # the export is itself an act of the log, recorded before it is read: it shows in its own file
        await record(
            t.audit, actor(who, request), AuditAction.EXPORT, unit=unit, detail=export_detail("audit_log", f)
        )
    if format == "csv":
        everything = await list_entries(t.engine, f, 1, AUDIT_EXPORT_MAX)
        return _csv(
            [r.model_dump(mode="json") for r in everything.items], [*AuditRow.model_fields], "audit.csv"
        )
    return await list_entries(t.engine, f, page, page_size)


@router.get("/stats", response_model=Stats, summary="Counts, on-time rate, latency, failure causes")
async def get_stats(
    t: Deps,
    who: Viewer,
    request: Request,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> Stats:
    units = visible_units(request, who)
    return await queries.stats(t.engine, since, until, t.settings.tracker_on_time_s, units)


async def delivery_or_404(
    t: Tracker, request: Request, who: Principal, action: Action, delivery_id: str
) -> DeliveryOut:
    """The delivery if ``who`` may ``action`` on its content's unit: 404 if unknown, 403 if another unit's."""
    found = await queries.find_delivery(t.engine, delivery_id)
    if found is None:
        raise HTTPException(404, f"no delivery {delivery_id!r}")
    check_unit(request, who, action, found.unit)
    return found


async def send_event(
    t: Tracker,
    command: DeliveryCommand | HoldCommand | CommentCommand | ContentRetracted,
    topic: str,
    key: str,
) -> ActionAccepted:
    """Publish an ops event (a command, a retraction) on ``topic`` under ``key``."""
    await t.broker.publish(
        command.model_dump_json().encode(), topic=t.settings.topic(topic), key=key.encode()
    )
    return ActionAccepted(command_id=str(command.event_id), type=command.type, topic=topic, key=key)


async def _delivery_command(
    t: Tracker,
    request: Request,
    who: Principal,
    delivery_id: str,
    body: ActionRequest | None,
    kind: type[RetryDelivery | CancelDelivery],
) -> ActionAccepted:
    action = Action.RETRY if kind is RetryDelivery else Action.CANCEL
    d = await delivery_or_404(t, request, who, action, delivery_id)
    ref = DeliveryRef(
        content_id=d.content_id,
        channel=d.channel,
        account=d.account,
        requested_by=f"tracker:{who.name}",
        reason=body.reason if body else "",
    )
    command = kind(payload=ref, producer="loa-tracker")
    audited = AuditAction.RETRY if kind is RetryDelivery else AuditAction.CANCEL
    return await send_delivery_command(t, request, who, d, command, audited, ref.reason)


async def send_delivery_command(
    t: Tracker,
    request: Request,
    who: Principal,
    d: DeliveryOut,
    command: DeliveryCommand,
    audited: AuditAction,
    reason: str,
    detail: str | None = None,
) -> ActionAccepted:
    """Send an ops command of ``who`` about one delivery (key = its content id), add it to the
    content's timeline and to the audit log as ``audited``."""
    accepted = await send_event(t, command, topics.COMMANDS, d.content_id)
    await record_action(
        t.engine,
        event_id=command.event_id,
        content_id=d.content_id,
        type_=command.type,
        actor=command.payload.requested_by,
        at=command.occurred_at,
        channel=d.channel,
        account=d.account,
        detail=reason if detail is None else detail,
    )
    await record(
        t.audit,
        actor(who, request),
        audited,
        reason=reason,
        content_id=d.content_id,
        version=d.version,
        delivery_id=d.id,
        account=d.account,
        unit=d.unit,
        detail="" if detail is None else detail,
    )
    return accepted


@router.post("/deliveries/{delivery_id}/retry", status_code=202, response_model=ActionAccepted)
async def retry(
    t: Deps, who: Retrier, request: Request, delivery_id: str, body: ActionRequest | None = None
) -> ActionAccepted:
    """Ask the channel's publisher to try again now (``delivery.retry`` on ``loa.commands.v1``)."""
    return await _delivery_command(t, request, who, delivery_id, body, RetryDelivery)


@router.post("/deliveries/{delivery_id}/cancel", status_code=202, response_model=ActionAccepted)
async def cancel(
    t: Deps, who: Canceller, request: Request, delivery_id: str, body: ActionRequest | None = None
) -> ActionAccepted:
    """Ask the channel's publisher not to publish (``delivery.cancel`` on ``loa.commands.v1``)."""
    return await _delivery_command(t, request, who, delivery_id, body, CancelDelivery)


@router.post("/contents/{content_id}/retract", status_code=202, response_model=ActionAccepted)
async def retract(
    t: Deps, who: Retractor, request: Request, content_id: ContentIdPath, body: RetractRequest
) -> ActionAccepted:
    """Take the content down everywhere: ``content.retracted`` on ``loa.content.v1``.

    A spokesperson of the content's unit, or an admin: the same rule as the ingest's retract."""
    detail = await content_or_404(t, request, who, Action.RETRACT, content_id)
    event = ContentRetracted(
        payload=Retraction(id=content_id, reason=body.reason, requested_by=f"tracker:{who.name}"),
        producer="loa-tracker",
    )
    accepted = await send_event(t, event, topics.CONTENT, content_id)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.RETRACT,
        reason=body.reason,
        content_id=content_id,
        version=detail.version,
        unit=detail.unit,
    )
    return accepted


async def _content_stream(t: Tracker, request: Request, content_id: str) -> AsyncIterator[ServerSentEvent]:
    queue = t.changes.listen()
    last = ""
    try:
        while True:
            detail = await queries.get_content(t.engine, content_id)
            snapshot = json.dumps(
                [d.model_dump(mode="json") for d in detail.deliveries] if detail else [], ensure_ascii=False
            )
            if snapshot != last:
                last = snapshot
                yield ServerSentEvent(data=snapshot, event="deliveries")
            if await request.is_disconnected():
                return
            await _wait_for(queue, lambda ids: content_id in ids)
    finally:
        t.changes.forget(queue)


async def _wait_for(queue: asyncio.Queue[set[str]], wanted: object) -> None:
    """Until a change we care about, or a poll interval (changes written by another replica)."""
    deadline = asyncio.get_running_loop().time() + SSE_POLL_S
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            ids = await asyncio.wait_for(queue.get(), left)
        except TimeoutError:
            return
        if wanted(ids):  # type: ignore[operator]
            return


@router.get(
    "/contents/{content_id}/events",
    summary="Live deliveries of a content (Server-Sent Events: `deliveries` with the full list)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def content_events(
    t: Deps, who: Viewer, request: Request, content_id: ContentIdPath
) -> EventSourceResponse:
    await content_or_404(t, request, who, Action.READ, content_id)
    return EventSourceResponse(_content_stream(t, request, content_id), ping=SSE_PING_S)


async def _all_changes(
    t: Tracker, request: Request, units: frozenset[str] | None
) -> AsyncIterator[ServerSentEvent]:
    queue = t.changes.listen()
    try:
        yield ServerSentEvent(data="[]", event="hello")
        while not await request.is_disconnected():
            try:
                ids = await asyncio.wait_for(queue.get(), SSE_POLL_S)
            except TimeoutError:
                continue
            seen = await queries.visible_ids(t.engine, ids, units)
            if seen:
                yield ServerSentEvent(data=json.dumps(sorted(seen)[:500]), event="changed")
    finally:
        t.changes.forget(queue)


@router.get(
    "/events",
    summary="Which contents changed (Server-Sent Events: `changed` with content ids)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def all_events(t: Deps, who: Viewer, request: Request) -> EventSourceResponse:
    return EventSourceResponse(_all_changes(t, request, visible_units(request, who)), ping=SSE_PING_S)

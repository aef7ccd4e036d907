"""``/api/v1/holds``: the hold switch ("Tạm dừng phát hành"), its release, and the late items.

Holding and releasing are commands on ``loa.commands.v1`` (key = the hold id) that every
publisher applies within seconds; the tracker records each hold with who asked and why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import (
    AuditAction,
    CancelDelivery,
    DeliveryRef,
    DeliveryState,
    Hold,
    HoldPublishing,
    HoldRelease,
    ReleaseDelivery,
    ReleasePublishing,
    topics,
    utcnow,
)
from services.tracker import holds
from services.tracker.api import ERRORS, Deps, delivery_or_404, send_delivery_command, send_event
from services.tracker.auth import requires
from services.tracker.views import (
    ActionAccepted,
    ActionRequest,
    DeliveryOut,
    HoldOut,
    HoldRequest,
    LateDecision,
)

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["holds"])
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Operator = Annotated[Principal, Depends(requires(Action.HOLD))]
HoldIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


@router.get("/holds", response_model=list[HoldOut], summary="Active holds, then the latest released ones")
async def list_holds(t: Deps, _: Viewer) -> list[HoldOut]:
    return await holds.list_holds(t.engine)


@router.post("/holds", status_code=201, response_model=HoldOut, summary="Hold publishing (all, or a scope)")
async def hold(t: Deps, request: Request, who: Operator, body: HoldRequest) -> HoldOut:
    """Every not-yet-published delivery in the scope becomes ``held`` on every publisher within
    seconds (``publishing.hold``); one already being sent finishes."""
    at = utcnow()
    order = Hold(
        hold_id=holds.new_hold_id(at),
        unit=body.unit,
        channel=body.channel,
        account=body.account,
        requested_by=f"tracker:{who.name}",
        reason=body.reason,
    )
    await holds.record_hold(t.engine, order, at)
    try:
        await send_event(
            t, HoldPublishing(payload=order, producer="loa-tracker"), topics.COMMANDS, order.hold_id
        )
    except Exception:
        # not sent: nothing is held, so the record must not say so
        await holds.record_release(
            t.engine, order.hold_id, "loa-tracker", "not sent: Kafka refused it", utcnow()
        )
        raise
    await record(
        t.audit,
        actor(who, request),
        AuditAction.HOLD,
        reason=order.reason,
        account=order.account,
        unit=order.unit,
        detail=f"{order.hold_id}: {holds.scope_of(order.unit, order.channel, order.account)}",
    )
    found = await holds.get_hold(t.engine, order.hold_id)
    assert found is not None
    return found


@router.post("/holds/{hold_id}/release", status_code=202, response_model=ActionAccepted)
async def release(
    t: Deps, request: Request, who: Operator, hold_id: HoldIdPath, body: ActionRequest | None = None
) -> ActionAccepted:
    """End a hold (``publishing.release``): what it held goes in its original order; deliveries
    whose time passed during it wait in ``GET /holds/late`` for a decision."""
    found = await holds.get_hold(t.engine, hold_id)
    if found is None:
        raise HTTPException(404, f"no hold {hold_id!r}")
    if found.released_at is not None:
        raise HTTPException(409, f"hold {hold_id!r} was released already")
    reason = body.reason if body else ""
    command = ReleasePublishing(
        payload=HoldRelease(hold_id=hold_id, requested_by=f"tracker:{who.name}", reason=reason),
        producer="loa-tracker",
    )
    accepted = await send_event(t, command, topics.COMMANDS, hold_id)
    await holds.record_release(t.engine, hold_id, command.payload.requested_by, reason, command.occurred_at)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.RELEASE,
        reason=reason,
        account=found.account,
        unit=found.unit,
        detail=f"{hold_id}: {holds.scope_of(found.unit, found.channel, found.account)}",
    )
    return accepted


@router.get("/holds/late", response_model=list[DeliveryOut], summary="Held deliveries whose time passed")
async def late(t: Deps, _: Viewer) -> list[DeliveryOut]:
    """Deliveries a release left ``held`` because their time passed during the hold: send each
    now, reschedule it or cancel it (``POST /deliveries/{id}/late``)."""
    return await holds.late_items(t.engine)


@router.post("/deliveries/{delivery_id}/late", status_code=202, response_model=ActionAccepted)
async def decide_late(
    t: Deps, request: Request, who: Operator, delivery_id: str, body: LateDecision
) -> ActionAccepted:
    """Send a late item now, at a new time (``delivery.release``), or cancel it (``delivery.cancel``)."""
    d = await delivery_or_404(t, request, who, Action.HOLD, delivery_id)
    if d.state is not DeliveryState.HELD or d.id not in {x.id for x in await holds.late_items(t.engine)}:
        raise HTTPException(
            409, f"delivery {delivery_id!r} is not a late item of a released hold ({d.state})"
        )
    ref = DeliveryRef(
        content_id=d.content_id,
        channel=d.channel,
        account=d.account,
        requested_by=f"tracker:{who.name}",
        reason=body.reason,
    )
    command = (
        CancelDelivery(payload=ref, producer="loa-tracker")
        if body.action == "cancel"
        else ReleaseDelivery(payload=ref, at=body.at, producer="loa-tracker")
    )
    detail = f"{body.action}: {body.reason}" if body.reason else body.action
    audited = AuditAction.CANCEL if body.action == "cancel" else AuditAction.RELEASE
    return await send_delivery_command(t, request, who, d, command, audited, body.reason, detail)

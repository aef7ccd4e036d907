"""The two-person rule's decisions: ``GET /api/v1/awaiting``, and a spokesperson of the content's
unit approving (its event then goes to Kafka, ``approved_by`` the approver) or rejecting with a
reason. The rule itself is ``two_person.py``."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from loa.access import Principal
from loa.access.policy import Action, Policy
from loa.access.requests import actor
from loa.audit import record
from loa.channels.preview import Preview, render_previews
from loa.events import AuditAction, Content, utcnow
from loa.events.content import PlainText
from services.ingest.audit import OutboxAudit
from services.ingest.auth import require
from services.ingest.contents import accept
from services.ingest.db import AwaitingApproval
from services.ingest.deps import (
    Approver,
    DbDep,
    PolicyDep,
    Reader,
    Rejecter,
    RelayDep,
    SettingsDep,
    WriteLockDep,
)
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)
router = APIRouter()
ContentIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
VersionPath = Annotated[int, Path(ge=1)]


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[PlainText, Field(min_length=1, max_length=2000)]


async def _listed(row: AwaitingApproval, settings: IngestSettings) -> dict[str, Any]:
    content = Content.model_validate_json(row.content)
    return {
        "id": row.id,
        "version": row.version,
        "unit": row.unit,
        "title": content.title,
        "summary": content.summary,
        "submitted_by": row.submitted_by,
        "submitted_at": row.submitted_at.isoformat(),
        "approver_claim": content.approver_claim,
        "targets": [f"{t.channel}/{t.account}" for t in content.targets],
        "previews": [_shown(p) for p in await render_previews(content, settings)],
    }


def _shown(preview: Preview) -> dict[str, Any]:
    """What the channel would receive: its texts counted as it counts them, or why it would not."""
    return {
        "target": f"{preview.target.channel}/{preview.target.account}",
        "title": preview.title,
        "texts": [{"text": text, "count": count, "limit": limit} for text, count, limit in preview.texts],
        "problem": preview.problem,
        "note": preview.note,
    }


@router.get("/api/v1/awaiting")
async def awaiting(who: Reader, policy: PolicyDep, db: DbDep, settings: SettingsDep) -> JSONResponse:
    """The versions waiting for a spokesperson, of the units the caller may read, each with what
    each target channel would receive (rendered by its adapter, as ``loa publish --dry-run``)."""
    units = policy.units_for(who, Action.READ)
    query = select(AwaitingApproval).where(AwaitingApproval.decision.is_(None))
    if units is not None:
        query = query.where(AwaitingApproval.unit.in_(sorted(units)))
    async with db.sessions() as session:
        rows = (await session.scalars(query.order_by(AwaitingApproval.submitted_at))).all()
    return JSONResponse({"items": [await _listed(r, settings) for r in rows]})


async def _decidable(
    session: Any, policy: Policy, who: Principal, action: Action, content_id: str, version: int
) -> AwaitingApproval:
    """The waiting version, if ``who`` may decide on it: of a unit it may ``action`` on, not its own."""
    row = await _waiting(session, content_id, version)
    require(policy, who, action, row.unit, "content_id")
    if who.name == row.submitted_by:
        why = f"{who.name} submitted this version: another person approves or rejects it"
        raise ApiError(403, "same_person", why)
    return row


async def _waiting(session: Any, content_id: str, version: int) -> AwaitingApproval:
    row: AwaitingApproval | None = await session.get(
        AwaitingApproval, (content_id, version), with_for_update=True
    )
    if row is None:
        raise ApiError(404, "not_found", f"version {version} of {content_id} is not awaiting approval")
    if row.decision is not None:
        why = f"version {version} of {content_id} was already {row.decision} by {row.decided_by}"
        raise ApiError(409, "already_decided", why)
    return row


@router.post("/api/v1/contents/{content_id}/versions/{version}/approve", status_code=202)
async def approve(
    request: Request,
    content_id: ContentIdPath,
    version: VersionPath,
    who: Approver,
    policy: PolicyDep,
    settings: SettingsDep,
    db: DbDep,
    relay: RelayDep,
    write_lock: WriteLockDep,
) -> JSONResponse:
    """Approve a waiting version: its event goes to the outbox with ``approved_by`` the approver."""
    async with write_lock, db.sessions() as session, session.begin():
        row = await _decidable(session, policy, who, Action.APPROVE, content_id, version)
        content = Content.model_validate_json(row.content)
        content = content.model_copy(update={"approved_by": who.name, "approved_at": utcnow()})
        # the submitter's right to this id was checked when it was submitted; the version is checked again
        event, body = await accept(
            session, settings, content, row.submitted_by, row.correlation_id, lambda _: None
        )
        row.decision, row.decided_by, row.decided_at = "approved", who.name, utcnow()
        audit = OutboxAudit(session, settings)
        await record(audit, actor(who, request), AuditAction.APPROVE, content_id=content_id, version=version)
    relay.wake.set()
    log.info(
        "v%d approved by %s",
        version,
        who.name,
        extra={"content_id": content_id, "event_id": str(event.event_id)},
    )
    return JSONResponse(body, status_code=202)


@router.post("/api/v1/contents/{content_id}/versions/{version}/reject")
async def reject(
    request: Request,
    content_id: ContentIdPath,
    version: VersionPath,
    body: Rejection,
    who: Rejecter,
    policy: PolicyDep,
    settings: SettingsDep,
    db: DbDep,
    relay: RelayDep,
    write_lock: WriteLockDep,
) -> JSONResponse:
    """Reject a waiting version with a reason: nothing goes to Kafka."""
    async with write_lock, db.sessions() as session, session.begin():
        row = await _decidable(session, policy, who, Action.REJECT, content_id, version)
        row.decision, row.decided_by, row.decided_at, row.reason = "rejected", who.name, utcnow(), body.reason
        audit = OutboxAudit(session, settings)
        await record(
            audit,
            actor(who, request),
            AuditAction.REJECT,
            content_id=content_id,
            version=version,
            reason=body.reason,
        )
    relay.wake.set()
    log.info("v%d rejected by %s", version, who.name, extra={"content_id": content_id})
    return JSONResponse({"id": content_id, "version": version, "status": "rejected", "reason": body.reason})

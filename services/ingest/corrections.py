"""Corrections ("Đính chính", issue #17): who may submit one, and what it may correct.

A content of kind ``correction`` is submitted like any other (``POST /api/v1/contents``) and is
audited as a submission; beyond ``submit`` it needs ``publish_correction`` (a spokesperson or an
admin) on its own unit and on the corrected content's, and ``corrects`` must name a content this
ingest accepted and nobody retracted (there is nothing online to correct otherwise).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from loa.access import Principal
from loa.access.policy import Action, Policy
from loa.access.principal import ALL_UNITS
from loa.events import Content, ContentKind
from services.ingest.db import ContentRecord, RetractionRecord
from services.ingest.errors import ApiError

CORRECTION_ACTION = Action.PUBLISH_CORRECTION
"""What a submission of kind ``correction`` needs besides ``submit`` (the permission matrix reads it)."""


def _forbidden(field: str, refusal: str) -> ApiError:
    why = f"a correction is published by a spokesperson of its unit: {refusal}"
    return ApiError(403, "correction_not_allowed", why, [{"field": field, "reason": why}])


def check_submitter(policy: Policy, client: Principal, content: Content) -> None:
    """403 ``correction_not_allowed`` naming ``payload.kind`` unless ``client`` may publish corrections
    for the content's unit (an editor may not)."""
    if content.kind is not ContentKind.CORRECTION:
        return
    refusal = policy.refusal(client, CORRECTION_ACTION, content.unit)
    if refusal is not None:
        raise _forbidden("payload.kind", refusal)


def _unprocessable(code: str, why: str) -> ApiError:
    return ApiError(422, code, why, [{"field": "payload.corrects", "reason": why}])


async def check_corrected(session: AsyncSession, policy: Policy, client: Principal, content: Content) -> None:
    """``corrects`` names a content the ingest knows, not retracted, of a unit ``client`` may correct
    (422 ``corrects_unknown`` / ``corrects_retracted``, 403 ``correction_not_allowed``)."""
    if content.corrects is None:
        return
    known = await session.get(ContentRecord, content.corrects)
    if known is None:
        raise _unprocessable(
            "corrects_unknown",
            f"content {content.corrects} is unknown to the ingest: a correction corrects a content "
            "submitted here (check the id)",
        )
    retraction = await session.get(RetractionRecord, content.corrects)
    if retraction is not None:
        when = retraction.retracted_at.isoformat(timespec="seconds")
        raise _unprocessable(
            "corrects_retracted",
            f"content {content.corrects} was retracted at {when} by {retraction.retracted_by}: "
            "nothing of it is online to correct",
        )
    refusal = policy.refusal(client, CORRECTION_ACTION, known.unit or ALL_UNITS)
    if refusal is not None:
        raise _forbidden("payload.corrects", refusal)

"""``GET /api/v1/contents/{id}/engagement``: the latest figures of each of a content's deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from loa.access.policy import Action
from services.tracker import engagement
from services.tracker.api import ERRORS, ContentIdPath, Deps, Viewer, content_or_404
from services.tracker.engagement import DeliveryEngagement

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["engagement"])


class ContentEngagement(BaseModel):
    content_id: str
    unit: str
    deliveries: list[DeliveryEngagement]


@router.get(
    "/contents/{content_id}/engagement",
    response_model=ContentEngagement,
    summary="The latest engagement figures of each delivery of a content (read by the listener)",
)
async def content_engagement(
    t: Deps, who: Viewer, request: Request, content_id: ContentIdPath
) -> ContentEngagement:
    detail = await content_or_404(t, request, who, Action.READ, content_id)
    return ContentEngagement(
        content_id=content_id, unit=detail.unit, deliveries=await engagement.latest(t.engine, content_id)
    )

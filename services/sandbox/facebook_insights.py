"""Graph API Page Post insights (``GET /{post-id}/insights``), from the seeded simulation.

Written from the Insights reference (https://developers.facebook.com/docs/graph-api/reference/insights,
"Page Posts" metrics): ``metric`` is a comma-separated list; the answer is ``data`` of
``{name, period: "lifetime", values: [{value}], title, description, id:
"<post-id>/insights/<name>/lifetime"}``. An unknown metric is error 100 "(#100) The value must be
a valid insights metric"; an object that does not exist (or a scheduled post not yet out) is
error 100 subcode 33, as every Graph read answers. Rate limits (codes 4, 17, 32, 613) come from
``/_sandbox/faults`` presets with the usage headers every answer carries.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from services.sandbox import engagement
from services.sandbox.facebook import PLATFORM, GraphError, GraphState, Page, _handle, no_object

router = APIRouter(prefix="/graph", tags=["facebook graph api"])

METRICS = {
    "post_impressions": (
        "Lifetime Post Total Impressions",
        "The number of times your Page's post entered a person's screen.",
    ),
    "post_impressions_unique": (
        "Lifetime Post Total Reach",
        "The number of people who had your Page's post enter their screen.",
    ),
}


@router.get("/{version}/{object_id}/insights")
async def insights(version: str, object_id: str, request: Request) -> Response:
    async def act(st: GraphState, page: Page, params: dict[str, str], _form: object) -> dict[str, Any]:
        post = st.posts.get(object_id)
        if post is None or not post.published or post.page_id != page.id:
            raise no_object(object_id)
        asked = [m.strip() for m in params.get("metric", "").split(",") if m.strip()]
        if not asked or any(m not in METRICS for m in asked):
            raise GraphError(100, "(#100) The value must be a valid insights metric")
        figures = engagement.simulation.figures(PLATFORM, post.id, post.created)
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": figures[name]}],
                "title": METRICS[name][0],
                "description": f"Lifetime: {METRICS[name][1]}",
                "id": f"{post.id}/insights/{name}/lifetime",
            }
            for name in asked
        ]
        return {"data": data}

    return await _handle(request, object_id.partition("_")[0], act)

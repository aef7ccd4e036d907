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

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from services.sandbox import engagement
from services.sandbox.facebook import PLATFORM, GraphError, GraphState, Page, _handle, error_body, no_object
from services.sandbox.frame import Fault, PresetArgs, sandbox

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


def _page_rate_limit(args: PresetArgs) -> Fault:
    """Graph's own throttling answer: error code 32 "Page request limit reached" (codes 4, 17, 32 and
    613 are the rate limits, https://developers.facebook.com/docs/graph-api/overview/rate-limiting),
    HTTP 400 as Graph answers its OAuthException errors, with ``X-Business-Use-Case-Usage`` naming
    ``estimated_time_to_regain_access`` in minutes."""
    minutes = max(1, -(-args.reset_after_s // 60))
    usage = {"call_count": 100, "total_cputime": 40, "total_time": 60}
    buc = {"0": [{"type": "pages", **usage, "estimated_time_to_regain_access": minutes}]}
    headers = {"X-App-Usage": json.dumps(usage), "X-Business-Use-Case-Usage": json.dumps(buc)}
    body = error_body(32, "(#32) Page request limit reached", type_="OAuthException")
    return Fault(args.platform, 400, body, headers)


sandbox.register_presets(PLATFORM, {"rate_limit": _page_rate_limit})

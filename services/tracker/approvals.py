"""The approvals page ("Chờ phê duyệt"): the versions the two-person rule keeps in the ingest, and a
spokesperson's approve / reject with a reason.

The versions and the decisions stay with their one owner, the ingest. The tracker calls it with the
signed-in person's own OpenID Connect ID token (kept sealed in the session), never with a
credential of its own: the ingest verifies that token against the provider and checks the one
policy for that person, so the tracker can neither forge nor widen anyone's authority, and
``approved_by`` is the person who clicked (docs/security.md, "Two-person rule").
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from loa.access import Principal
from loa.access.policy import Action
from loa.access.principal import Kind
from loa.outages import error_response
from loa.tls import client_context
from services.tracker.api import ERRORS
from services.tracker.auth import SESSION_COOKIE, requires
from services.tracker.context import Tracker
from services.tracker.web import render_page

log = logging.getLogger(__name__)
pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1/approvals", responses=ERRORS, tags=["approvals"])
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Approver = Annotated[Principal, Depends(requires(Action.APPROVE))]
Rejecter = Annotated[Principal, Depends(requires(Action.REJECT))]
ContentIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
VersionPath = Annotated[int, Path(ge=1)]
INGEST_TIMEOUT_S = 15.0
PERSON_ONLY = "person_sign_in_required"
"""The code of a decision asked by a caller with no ID token: a service account, or an old session."""


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=2000, description="why, shown to the submitter")]


class NoPersonTokenError(Exception):
    """The caller has no ID token the ingest could verify: a service account, or an old session."""


async def _person_token(request: Request, who: Principal) -> str:
    """The signed-in person's ID token, opened with their session cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    tracker: Tracker = request.app.state.tracker
    token = await tracker.sessions.id_token(cookie) if cookie and who.kind is Kind.PERSON else None
    if token is None:
        raise NoPersonTokenError(who.name)
    return token


async def _ingest(request: Request, who: Principal, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The ingest's answer to ``method path``, asked as the signed-in person."""
    tracker: Tracker = request.app.state.tracker
    headers = {"Authorization": f"Bearer {await _person_token(request, who)}"}
    base = str(tracker.settings.tracker_ingest_url).rstrip("/")
    async with httpx.AsyncClient(base_url=base, timeout=INGEST_TIMEOUT_S, verify=client_context()) as client:
        return await client.request(method, path, headers=headers, **kwargs)


def _relayed(answer: httpx.Response) -> Response:
    """The ingest's JSON answer as it came (its error envelope names the code and the cause)."""
    if "json" not in answer.headers.get("content-type", ""):
        raise HTTPException(502, f"the ingest answered {answer.status_code} without JSON")
    if answer.status_code == 401:
        why = "your sign-in is too old for the ingest to accept: sign out and sign in again"
        raise HTTPException(403, why)  # the tracker's own session is fine: not a 401
    return JSONResponse(answer.json(), status_code=answer.status_code)


async def _decide(request: Request, who: Principal, path: str, body: dict[str, Any] | None) -> Response:
    try:
        return _relayed(await _ingest(request, who, "POST", path, json=body))
    except NoPersonTokenError:
        # the policy let the caller through; what is missing is a person's credential to forward
        why = "a person signed in with the office's SSO decides here (a service account: the ingest's API)"
        return error_response(403, PERSON_ONLY, why)
    except httpx.HTTPError as e:
        log.warning("approvals: the ingest is unreachable: %s", e)
        raise HTTPException(502, "the ingest cannot be reached; try again") from None


@router.post("/{content_id}/{version}/approve", status_code=202, summary="Approve a waiting version")
async def approve(
    request: Request, who: Approver, content_id: ContentIdPath, version: VersionPath
) -> Response:
    """The signed-in person approves: the ingest sends the event with ``approved_by`` that person."""
    path = f"/api/v1/contents/{content_id}/versions/{version}/approve"
    return await _decide(request, who, path, None)


@router.post("/{content_id}/{version}/reject", summary="Reject a waiting version with a reason")
async def reject(
    request: Request, who: Rejecter, content_id: ContentIdPath, version: VersionPath, body: RejectRequest
) -> Response:
    """The signed-in person rejects, with a reason: nothing is sent."""
    path = f"/api/v1/contents/{content_id}/versions/{version}/reject"
    return await _decide(request, who, path, body.model_dump())


@pages.get("/approvals", response_class=HTMLResponse)
async def approvals_page(request: Request, who: Viewer) -> Response:
    """What waits for a decision in the units the person may read; approve / reject where they may."""
    items: list[dict[str, Any]] = []
    problem = None
    try:
        answer = await _ingest(request, who, "GET", "/api/v1/awaiting")
        if answer.status_code == 200:
            items = answer.json()["items"]
        else:
            problem = "approvals_sign_in_again" if answer.status_code == 401 else "approvals_unavailable"
            log.warning("approvals page: the ingest answered %d", answer.status_code)
    except NoPersonTokenError:
        problem = "approvals_person_only"
    except httpx.HTTPError as e:
        log.warning("approvals page: the ingest is unreachable: %s", e)
        problem = "approvals_unavailable"
    policy = request.app.state.auth.policy
    for item in items:
        item["submitted_at"] = datetime.fromisoformat(item["submitted_at"])
        # the buttons only: the ingest decides again (its policy, and never the submitter)
        own = item["submitted_by"] == who.name
        item["may_decide"] = not own and policy.may(who, Action.APPROVE, item["unit"])
    page = render_page(request, "approvals.html", who, items=items, problem=problem)
    if problem == "approvals_unavailable":
        page.status_code = 502
    return page

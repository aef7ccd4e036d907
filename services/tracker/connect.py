"""Connect a channel account from the dashboard by the platform's own OAuth flow (Zalo, Facebook,
YouTube, X), against the sandbox in development. Each platform's steps live beside its channel
(``services/<channel>/connect.py``, a ``connect_flow.Flow``); this module runs them all alike:

1. ``POST /api/v1/accounts/connect/<channel>`` (admin: ``manage_accounts``): the account's name,
   unit and the office's app; answers where to send the browser. The ``state`` is one-time, kept
   server-side ``ttl_s`` (10 minutes) with the admin who started it and a PKCE verifier, and bound
   to this browser by an HttpOnly ``SameSite=Lax`` cookie limited to the callback (the session
   cookie is ``Strict``, so it does not come back from the platform's redirect): as the OIDC
   sign-in (RFC 9700 §4.7).
2. ``GET /accounts/connect/<channel>/callback``: this browser's state, then a refusal of consent
   (``error=``) or the code becomes the account's credentials, which go to the channel's publisher
   as any account change does (``accounts_api.change_account``: sealed, audited
   ``account_change``). A refusal or a platform error is audited too, and the page says why in one
   line; no page, log or audit row carries a secret or a token.

Connects under way live in the tracker's memory (one tracker process; a restart starts them over).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction, AuditOutcome
from loa.events.content import ChannelName
from services.tracker import accounts
from services.tracker.accounts_api import change_account
from services.tracker.api import ERRORS
from services.tracker.auth import requires
from services.tracker.connect_flow import (
    Back,
    Choice,
    Connected,
    ConnectError,
    ConnectRequest,
    Flow,
    Start,
    challenge_of,
)
from services.tracker.connect_registry import FLOWS
from services.tracker.context import Tracker
from services.tracker.views import AccountFields, AccountOut
from services.tracker.web import message_page

log = logging.getLogger(__name__)
router = APIRouter(responses=ERRORS, tags=["accounts"])
Admin = Annotated[Principal, Depends(requires(Action.MANAGE_ACCOUNTS))]
COOKIE = "loa_connect_state"
PENDING_S = 600.0


def callback_path(channel: str) -> str:
    return f"/accounts/connect/{channel}/callback"


class ConnectStarted(BaseModel):
    authorize_url: str


@dataclass(frozen=True)
class Pending:
    who: Principal
    channel: str
    request: ConnectRequest
    verifier: str
    until: float


@dataclass(frozen=True)
class Held:
    """A connect back from the platform, waiting for the admin's choice (``Choice``)."""

    pending: Pending
    choice: Choice
    until: float


class Connects:
    """Connects under way, by state: one-time, for ``ttl_s`` seconds of ``clock``; and those
    waiting for a choice, by a one-time pick token."""

    def __init__(self, ttl_s: float = PENDING_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._pending: dict[str, Pending] = {}
        self._held: dict[str, Held] = {}

    def begin(self, who: Principal, channel: str, request: ConnectRequest) -> tuple[str, str]:
        """A new state and the PKCE challenge of its verifier."""
        now = self.clock()
        self._pending = {s: p for s, p in self._pending.items() if p.until > now}
        state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        self._pending[state] = Pending(who, channel, request, verifier, now + self.ttl_s)
        return state, challenge_of(verifier)

    def take(self, state: str, channel: str) -> Pending | None:
        """The connect of ``state`` once, if it has not expired and is of ``channel``."""
        pending = self._pending.pop(state, None)
        if pending is None or pending.until <= self.clock() or pending.channel != channel:
            return None
        return pending

    def hold(self, pending: Pending, choice: Choice) -> str:
        """Keep ``choice`` for its admin (``ttl_s`` again); the pick token."""
        now = self.clock()
        self._held = {p: h for p, h in self._held.items() if h.until > now}
        pick = secrets.token_urlsafe(32)
        self._held[pick] = Held(pending, choice, now + self.ttl_s)
        return pick

    def picked(self, pick: str, channel: str, who: Principal, option: str) -> Held | None:
        """The held connect of ``pick``, once, if it is ``who``'s, of ``channel``, in time, and
        ``option`` is one of its choices (else it stays for a valid pick)."""
        held = self._held.get(pick)
        if held is None or held.pending.channel != channel or held.pending.who.name != who.name:
            return None
        if held.until <= self.clock() or option not in held.choice.options:
            return None
        return self._held.pop(pick)


def _tracker(request: Request) -> Tracker:
    t: Tracker = request.app.state.tracker
    return t


def _start_route(flow: Flow) -> Any:
    """The start route of ``flow``, its body typed by the flow's request model."""

    async def start(request: Request, who: Admin, body: ConnectRequest, response: Response) -> ConnectStarted:
        t = _tracker(request)
        connects: Connects = request.app.state.connects
        state, challenge = connects.begin(who, flow.channel, body)
        redirect_uri = str(request.base_url).rstrip("/") + callback_path(flow.channel)
        response.set_cookie(
            COOKIE,
            state,
            max_age=int(connects.ttl_s),
            path=callback_path(flow.channel),
            httponly=True,
            samesite="lax",
            secure=t.settings.cookie_secure,
        )
        return ConnectStarted(
            authorize_url=flow.authorize_url(t.settings, body, Start(state, challenge, redirect_uri))
        )

    start.__annotations__ = {
        "request": Request,
        "who": Admin,
        "body": flow.request_model,
        "response": Response,
        "return": ConnectStarted,
    }
    start.__doc__ = "Where to send the browser: the platform's consent page for the office's app."
    return start


for _flow in FLOWS.values():
    router.add_api_route(
        f"/api/v1/accounts/connect/{_flow.channel}",
        _start_route(_flow),
        methods=["POST"],
        response_model=ConnectStarted,
        summary=f"Connect a {_flow.channel} account by its OAuth flow",
    )


@router.get("/accounts/connect/{channel}/callback", response_class=HTMLResponse)
async def callback(
    request: Request,
    channel: str,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Back from the platform: this browser's state, then the code becomes the account."""
    flow = FLOWS.get(channel)
    bound = request.cookies.get(COOKIE, "")
    if flow is None or not state or not bound or not hmac.compare_digest(state.encode(), bound.encode()):
        return message_page(request, "connect_refused", 403)
    pending = request.app.state.connects.take(state, channel)
    if pending is None:
        return message_page(request, "connect_refused", 403)
    t, body = _tracker(request), pending.request
    if error:
        reason = f"consent refused at {channel}: {error} {_said(request)}".strip()
        return await _refused(request, pending, reason, "connect_denied", 400)
    redirect_uri = str(request.base_url).rstrip("/") + callback_path(channel)
    params = {k: v[:200] for k, v in request.query_params.items() if k not in {"state", "code"}}
    try:
        connected = await flow.finish(t.settings, body, Back(code, pending.verifier, redirect_uri, params))
    except ConnectError as e:
        return await _refused(request, pending, str(e), "connect_failed", 502)
    if isinstance(connected, Choice):
        pick = request.app.state.connects.hold(pending, connected)
        url = f"/api/v1/accounts/connect/{channel}/pick"
        page = message_page(
            request, f"connect_pick_{channel}", 200, choices=connected.options, pick=pick, pick_url=url
        )
    else:
        await _apply(request, pending, connected)
        page = message_page(request, "connect_done", 200, target="/accounts")
    page.delete_cookie(COOKIE, path=callback_path(channel))
    return page


class PickIn(BaseModel):
    model_config = {"extra": "forbid"}

    pick: str = Field(min_length=1, max_length=200, description="the pick token of the choice page")
    choice: str = Field(min_length=1, max_length=200, description="the id of the chosen account")


@router.post(
    "/api/v1/accounts/connect/{channel}/pick",
    response_model=AccountOut,
    summary="Finish a connect by a choice",
)
async def pick(request: Request, channel: ChannelName, who: Admin, body: PickIn) -> AccountOut:
    """The admin who started the connect picks which of the grant's accounts (a Page) it is."""
    held = request.app.state.connects.picked(body.pick, channel, who, body.choice)
    if held is None:
        raise HTTPException(404, "pick: no connect of yours waits for this choice; start again")
    return await _apply(request, held.pending, held.choice.pick(body.choice))


async def _apply(request: Request, pending: Pending, connected: Connected) -> AccountOut:
    """The account change of a connect, audited as the admin who started it."""
    t, body, channel = _tracker(request), pending.request, pending.channel
    fields: dict[str, Any] = {
        "credentials": connected.credentials,
        "options": connected.options,
        "expires_at": connected.expires_at,
    }
    if body.unit is not None:
        fields["unit"] = body.unit
    exists = await accounts.get_account(t.engine, channel, body.name) is not None
    change = AccountFields(**fields)
    out = await change_account(t, request, pending.who, channel, body.name, change, create=not exists)
    log.info("%s/%s connected (%s) by %s", channel, body.name, connected.identity, pending.who.name)
    return out


def _said(request: Request) -> str:
    """What the platform said of a refusal (Facebook: ``error_reason``, others: ``error_description``)."""
    said = request.query_params.get("error_description") or request.query_params.get("error_reason") or ""
    return f"({said[:200]})" if said else ""


async def _refused(request: Request, pending: Pending, reason: str, message: str, status: int) -> Response:
    """Audited as a refused ``account_change``; the page names the cause in one line."""
    t, body = _tracker(request), pending.request
    await record(
        t.audit,
        actor(pending.who, request),
        AuditAction.ACCOUNT_CHANGE,
        outcome=AuditOutcome.REFUSED,
        reason=reason,
        account=body.name,
        unit=body.unit,
        detail=f"connect {pending.channel}/{body.name}",
    )
    log.warning("connect %s/%s refused: %s", pending.channel, body.name, reason)
    page = message_page(request, message, status, detail=reason)
    page.delete_cookie(COOKIE, path=callback_path(pending.channel))
    return page

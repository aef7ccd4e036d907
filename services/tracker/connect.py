"""Connect a Zalo Official Account from the dashboard (OAuth v4 with PKCE), against the sandbox in
development: the admin gives the account's name, unit and the office's Zalo app (id, secret key);
the OA's admin grants the app at Zalo; the callback exchanges the code for the token pair, which
goes to the zalo publisher as any account change does (``accounts_api.change_account``: sealed,
audited), and the account shows when its refresh token expires.

Zalo's "Official Account API: Xác thực và ủy quyền cho ứng dụng" (developers.zalo.me, OAuth v4):
``https://oauth.zaloapp.com/v4/oa/permission?app_id=&redirect_uri=&code_challenge=&state=``, then
``POST /v4/oa/access_token`` (header ``secret_key``; ``code``, ``app_id``,
``grant_type=authorization_code``, ``code_verifier``) → ``access_token`` (25 h), ``refresh_token``
(3 months, single-use). ``code_challenge`` = BASE64URL(SHA-256(verifier)) without padding.

The ``state`` is one-time, kept server-side 10 minutes with the admin who started it, and bound
to the browser by an HttpOnly ``SameSite=Lax`` cookie limited to the callback (the session cookie
is ``Strict``, so it does not come back from Zalo's redirect): as the OIDC sign-in (RFC 9700 §4.7).
Connects under way live in the tracker's memory (one tracker process; a restart starts them over).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, SecretStr, field_validator

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction, AuditOutcome, utcnow
from loa.events.commands import Unit
from loa.events.content import AccountName
from services.tracker import accounts
from services.tracker.accounts_api import change_account
from services.tracker.api import ERRORS
from services.tracker.auth import requires
from services.tracker.context import Tracker
from services.tracker.views import AccountFields
from services.tracker.web import message_page

log = logging.getLogger(__name__)
router = APIRouter(responses=ERRORS, tags=["accounts"])
Admin = Annotated[Principal, Depends(requires(Action.MANAGE_ACCOUNTS))]
CALLBACK = "/accounts/connect/zalo/callback"
COOKIE = "loa_connect_state"
PENDING_S = 600
REFRESH_LIFETIME = timedelta(days=90)
"""A Zalo OA refresh token lives about 3 months: the account's expiry until it is renewed."""
TIMEOUT_S = 15.0


class ZaloConnect(BaseModel):
    model_config = {"extra": "forbid"}

    name: AccountName
    unit: Unit | None = None
    app_id: Annotated[str, Field(pattern=r"^[0-9]{1,32}$", description="the office's Zalo app id")]
    secret_key: SecretStr = Field(min_length=1, max_length=200, description="the app's secret key")

    @field_validator("secret_key")
    @classmethod
    def _printable_ascii(cls, value: SecretStr) -> SecretStr:
        """It travels in an HTTP header (``secret_key``); Zalo's keys are ASCII letters and digits."""
        if not value.get_secret_value().isascii() or not value.get_secret_value().isprintable():
            raise ValueError("must be printable ASCII, as Zalo's app secret keys are")
        return value


class ConnectStarted(BaseModel):
    authorize_url: str


@dataclass(frozen=True)
class Pending:
    who: Principal
    request: ZaloConnect
    verifier: str
    until: float


class Connects:
    """Connects under way, by state: one-time, for ``PENDING_S`` seconds."""

    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}

    def begin(self, who: Principal, request: ZaloConnect) -> tuple[str, str]:
        """A new state and the PKCE challenge of its verifier."""
        now = time.monotonic()
        self._pending = {s: p for s, p in self._pending.items() if p.until > now}
        state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        self._pending[state] = Pending(who, request, verifier, now + PENDING_S)
        digest = hashlib.sha256(verifier.encode()).digest()
        return state, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def take(self, state: str) -> Pending | None:
        pending = self._pending.pop(state, None)
        return pending if pending is not None and pending.until > time.monotonic() else None


def _tracker(request: Request) -> Tracker:
    t: Tracker = request.app.state.tracker
    return t


def _callback_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + CALLBACK


@router.post("/api/v1/accounts/connect/zalo", response_model=ConnectStarted, summary="Connect a Zalo OA")
async def connect_zalo(request: Request, who: Admin, body: ZaloConnect, response: Response) -> ConnectStarted:
    """Where to send the browser: Zalo's permission page for the app (the dashboard goes there)."""
    connects: Connects = request.app.state.connects
    state, challenge = connects.begin(who, body)
    query = urlencode(
        {
            "app_id": body.app_id,
            "redirect_uri": _callback_url(request),
            "code_challenge": challenge,
            "state": state,
        }
    )
    response.set_cookie(
        COOKIE,
        state,
        max_age=PENDING_S,
        path=CALLBACK,
        httponly=True,
        samesite="lax",
        secure=_tracker(request).settings.cookie_secure,
    )
    base = _tracker(request).settings.zalo_oauth_url.rstrip("/")
    return ConnectStarted(authorize_url=f"{base}/v4/oa/permission?{query}")


@router.get(CALLBACK, response_class=HTMLResponse)
async def zalo_callback(
    request: Request,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    oa_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Back from Zalo: this browser's state, then the code becomes the account's token pair."""
    bound = request.cookies.get(COOKIE, "")
    connects: Connects = request.app.state.connects
    if not state or not bound or not hmac.compare_digest(state.encode(), bound.encode()):
        return message_page(request, "connect_refused", 403)
    pending = connects.take(state)
    if pending is None:
        return message_page(request, "connect_refused", 403)
    t, body, who = _tracker(request), pending.request, actor(pending.who, request)
    try:
        pair = await _exchange(t, body, code, pending.verifier)
    except ConnectError as e:
        await record(
            t.audit,
            who,
            AuditAction.ACCOUNT_CHANGE,
            outcome=AuditOutcome.REFUSED,
            reason=str(e),
            account=body.name,
            unit=body.unit,
            detail=f"connect zalo/{body.name}",
        )
        return message_page(request, "connect_failed", 502, detail=str(e))
    credentials = {
        "app_id": body.app_id,
        "secret_key": body.secret_key.get_secret_value(),
        "access_token": pair["access_token"],
        "refresh_token": pair["refresh_token"],
    }
    fields: dict[str, Any] = {"credentials": credentials, "expires_at": utcnow() + REFRESH_LIFETIME}
    if body.unit is not None:
        fields["unit"] = body.unit
    exists = await accounts.get_account(t.engine, "zalo", body.name) is not None
    await change_account(
        t, request, pending.who, "zalo", body.name, AccountFields(**fields), create=not exists
    )
    log.info("zalo/%s connected (OA %s) by %s", body.name, oa_id, pending.who.name)
    page = message_page(request, "connect_done", 200, target="/accounts")
    page.delete_cookie(COOKIE, path=CALLBACK)
    return page


class ConnectError(Exception):
    """Zalo refused the code (its error name and code, never a token)."""


async def _exchange(t: Tracker, body: ZaloConnect, code: str, verifier: str) -> dict[str, str]:
    url = t.settings.zalo_oauth_url.rstrip("/") + "/v4/oa/access_token"
    form = {
        "app_id": body.app_id,
        "code": code,
        "grant_type": "authorization_code",
        "code_verifier": verifier,
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            answer = await client.post(
                url, data=form, headers={"secret_key": body.secret_key.get_secret_value()}
            )
        data = answer.json()
    except (httpx.HTTPError, ValueError) as e:
        raise ConnectError(f"Zalo's token endpoint did not answer: {type(e).__name__}") from None
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
        name = data.get("error_name", "no token") if isinstance(data, dict) else "no token"
        number = data.get("error", "") if isinstance(data, dict) else ""
        raise ConnectError(f"Zalo refused the code: {name} ({number})")
    return {"access_token": str(data["access_token"]), "refresh_token": str(data["refresh_token"])}

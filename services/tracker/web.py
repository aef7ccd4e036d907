"""The ops dashboard: server-rendered pages, live through SSE, Vietnamese by default."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from loa.access import Principal
from loa.access.policy import Action
from loa.access.principal import Kind
from loa.access.requests import actor, client_address
from loa.audit import record
from loa.events import AuditAction, AuditOutcome
from loa.mode import DEVELOPMENT
from loa.outages import RETRY_AFTER_SECONDS
from services.tracker import accounts, engagement, holds, incidents, incidents_api, queries, recipients_api
from services.tracker.audit_log import AuditFilter, list_entries, people
from services.tracker.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Authenticator,
    check_unit,
    requires,
    visible_units,
)
from services.tracker.connect_registry import connect_forms
from services.tracker.context import Tracker
from services.tracker.i18n import DEFAULT_LANG, LANGS, Translator
from services.tracker.login_throttle import LoginThrottle
from services.tracker.oidc import OidcClient, SignInError

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
log = logging.getLogger(__name__)
LANG_COOKIE = "loa_lang"
STATE_COOKIE = "loa_oidc_state"
"""Binds a sign-in under way to the browser that started it (RFC 9700 §4.7: CSRF on the callback)."""
CALLBACK = "/auth/callback"
SYSTEM_MAX_AGE_S = 5.0
"""The overview re-renders on every live change; its health card probes at most this often."""
router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Auditor = Annotated[Principal, Depends(requires(Action.READ_AUDIT))]
AccountsAdmin = Annotated[Principal, Depends(requires(Action.MANAGE_ACCOUNTS))]
AUDIT_PAGE_SIZE = 50
T = TypeVar("T")


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


def _render(request: Request, name: str, principal: Principal | None, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": Translator(lang),
            "lang": lang,
            "user": principal,
            **_abilities(request, principal),
            "csrf_header": CSRF_HEADER,
            "sso": request.app.state.oidc is not None,
            # every page, the sign-in page too: nobody should mistake the sandbox for the platforms
            "sandbox": request.app.state.settings.mode == DEVELOPMENT,
            **context,
        },
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return response


def render_page(request: Request, name: str, principal: Principal | None, **context: Any) -> HTMLResponse:
    """A dashboard page (``templates/<name>``) for ``principal``, in the browser's language."""
    return _render(request, name, principal, **context)


def message_page(request: Request, message: str, status_code: int, **context: Any) -> HTMLResponse:
    """A page of one message (``t(message)``), e.g. the end of an account's Connect."""
    page = _render(request, "connect.html", None, message=message, **context)
    page.status_code = status_code
    return page


def _abilities(request: Request, principal: Principal | None) -> dict[str, Any]:
    """Which buttons and links a page shows (the API checks again, per unit): ``can_act``
    retry/cancel, ``can_hold``, ``can_audit``, ``can_retract``, ``can_incident``, ``can_manage_tokens``."""
    if principal is None:
        return {
            "can_act": False,
            "can_retract": False,
            "can_hold": False,
            "can_audit": False,
            "can_manage_accounts": False,
            "can_incident": False,
            "can_moderate": False,
            "can_manage_tokens": False,
        }
    policy = request.app.state.auth.policy
    return {
        "can_act": policy.may(principal, Action.RETRY),
        "can_hold": policy.may(principal, Action.HOLD),
        "can_audit": policy.may(principal, Action.READ_AUDIT),
        "can_retract": policy.may(principal, Action.RETRACT),
        "can_manage_accounts": policy.may(principal, Action.MANAGE_ACCOUNTS),
        "can_incident": policy.may(principal, Action.MANAGE_INCIDENT),
        "can_moderate": policy.may(principal, Action.MODERATE_COMMENTS),
        "can_manage_tokens": policy.may(principal, Action.MANAGE_TOKENS),
    }


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _safe_next(value: str | None) -> str:
    """Only a local path: never redirect elsewhere after login."""
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _render(request, "login.html", None, next=_safe_next(next), error=None)


def _oidc(request: Request) -> OidcClient | None:
    client: OidcClient | None = request.app.state.oidc
    return client


def _refused(request: Request, next: str, error: str, status_code: int) -> HTMLResponse:
    page = _render(request, "login.html", None, next=_safe_next(next), error=error)
    page.status_code = status_code
    return page


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request, token: Annotated[str, Form(max_length=500)], next: Annotated[str, Form()] = "/"
) -> Response:
    throttle: LoginThrottle = request.app.state.login_throttle
    client = client_address(request)
    # checked before the token: a throttled client learns nothing, not even whether it guessed right
    wait = throttle.retry_after(client)
    if wait is not None:
        log.warning("dashboard sign-in throttled for %s (%d s)", client, wait)
        await _sign_in_refused(request, f"throttled: too many failed sign-ins, retry in {wait} s")
        refused = _refused(request, next, "login_throttled", 429)
        refused.headers["Retry-After"] = str(wait)
        return refused
    auth: Authenticator = request.app.state.auth
    principal = auth.tokens.configured(token.strip())
    if principal is None:
        throttle.failed(client)
        log.warning("dashboard sign-in refused: unknown token from %s", client)
        await _sign_in_refused(request, "unknown token")
        return _refused(request, next, "login_failed", 401)
    throttle.succeeded(client)
    log.info("dashboard sign-in: %s from %s", principal.name, client)
    return await _signed_in(request, principal, RedirectResponse(_safe_next(next), status_code=303))


async def _signed_in(
    request: Request, who: Principal, response: Response, id_token: str | None = None
) -> Response:
    """``response`` with the cookie of a new session of ``who``; the sign-in is audited."""
    session = await _tracker(request).sessions.open(who, id_token)
    await record(_tracker(request).audit, actor(who, request), AuditAction.SIGN_IN)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(_tracker(request).sessions.max_age.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_tracker(request).settings.cookie_secure,
    )
    return response


def _callback_url(request: Request) -> str:
    configured = _tracker(request).settings.oidc_redirect_url
    # unset only in development (TrackerSettings refuses that in production)
    return str(configured) if configured is not None else str(request.base_url).rstrip("/") + CALLBACK


@router.get("/login/oidc")
async def login_oidc(request: Request, next: str | None = None) -> Response:
    """Off to the provider: a link, not a form (a form's redirect elsewhere breaks form-action 'self')."""
    oidc = _oidc(request)
    if oidc is None:
        return RedirectResponse("/login", status_code=303)
    try:
        state, url = await oidc.begin(_callback_url(request), _safe_next(next))
    except (SignInError, httpx.HTTPError) as e:
        log.warning("dashboard sign-in: the OIDC provider is unavailable: %s", e)
        return _refused(request, next or "/", "oidc_unavailable", 503)
    response = RedirectResponse(url, status_code=303)
    # SameSite=Lax: the provider sends the browser back with a top-level GET from its own site
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=600,
        path=CALLBACK,
        httponly=True,
        samesite="lax",
        secure=_tracker(request).settings.cookie_secure,
    )
    return response


@router.get(CALLBACK, name="oidc_callback")
async def oidc_callback(
    request: Request,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=4000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Back from the provider: the state must be this browser's, then the code becomes a session."""
    oidc, client = _oidc(request), client_address(request)
    throttle: LoginThrottle = request.app.state.login_throttle
    bound = request.cookies.get(STATE_COOKIE, "")
    try:
        if oidc is None:
            raise SignInError("oidc_failed", "personal sign-in is not configured")
        if throttle.retry_after(client) is not None:
            raise SignInError("login_throttled", "throttled")
        if not state or not bound or not hmac.compare_digest(state.encode(), bound.encode()):
            raise SignInError("oidc_failed", "the state is not the one this browser was given")
        if error or not code:
            oidc.forget(state)
            raise SignInError("oidc_denied", f"the provider answered error={error or 'none, and no code'}")
        person, next, id_token = await oidc.finish(state, code)
    except SignInError as e:
        if e.reason != "login_throttled":
            throttle.failed(client)
        log.warning("dashboard sign-in through OIDC refused from %s: %s", client, e.detail)
        await _sign_in_refused(request, f"OIDC: {e.detail}")
        refused = _refused(request, "/", e.reason, 429 if e.reason == "login_throttled" else 403)
        refused.delete_cookie(STATE_COOKIE, path=CALLBACK)
        return refused
    except httpx.HTTPError as e:
        log.warning("dashboard sign-in through OIDC failed from %s: provider unreachable: %s", client, e)
        return _refused(request, "/", "oidc_unavailable", 503)
    throttle.succeeded(client)
    log.info(
        "dashboard sign-in: %s (person, %s) from %s",
        person.name,
        ", ".join(sorted(f"{g.role.value}:{g.unit}" for g in person.grants)),
        client,
    )
    # a page, not a redirect: the session cookie is SameSite=Strict, and a redirect that continues
    # the provider's cross-site navigation would arrive without it
    page = _render(request, "redirect.html", None, target=next, message="signing_in")
    response = await _signed_in(request, person, page, id_token)
    response.delete_cookie(STATE_COOKIE, path=CALLBACK)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """The session ends here; a person is then sent to sign out at the provider too, if it can."""
    cookie = request.cookies.get(SESSION_COOKIE)
    sessions = _tracker(request).sessions
    signed_in = await sessions.find(cookie) if cookie else None
    whose = await sessions.revoke(cookie) if cookie else None
    if whose is not None:
        log.info("dashboard sign-out: %s from %s", whose, client_address(request))
        who = actor(signed_in or Principal(whose, Kind.SERVICE), request)
        await record(_tracker(request).audit, who, AuditAction.SIGN_OUT)
    oidc = _oidc(request)
    provider_logout = None
    if oidc is not None and signed_in is not None and signed_in.kind is Kind.PERSON:
        try:
            provider_logout = await oidc.end_session_url()
        except (SignInError, httpx.HTTPError) as e:
            log.warning("sign-out at the OIDC provider skipped: %s", e)
    response: Response = RedirectResponse("/login", status_code=303)
    if provider_logout is not None:
        # a page that moves on: a form's redirect to another site would break form-action 'self'
        response = _render(request, "redirect.html", None, target=provider_logout, message="signing_out")
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=_tracker(request).settings.cookie_secure
    )
    return response


async def _sign_in_refused(request: Request, reason: str) -> None:
    """A failed sign-in names no one (the token matched nobody): the address is what is known."""
    who = actor(None, request)
    await record(
        _tracker(request).audit, who, AuditAction.SIGN_IN_FAILED, outcome=AuditOutcome.REFUSED, reason=reason
    )


def _tracker(request: Request) -> Tracker:
    t: Tracker = request.app.state.tracker
    return t


@router.get("/", response_class=HTMLResponse)
async def overview_page(
    request: Request, who: Viewer, q: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    t = _tracker(request)
    units = visible_units(request, who)
    channels = await queries.overview(t.engine, units=units)
    problems = await queries.problems(t.engine, units=units)
    recent = await queries.list_contents(t.engine, queries.ContentFilter(q=q, units=units), page_size=20)
    own, publishers = await asyncio.gather(
        t.readiness.recent(SYSTEM_MAX_AGE_S), t.publishers.recent(SYSTEM_MAX_AGE_S)
    )
    all_holds = await holds.list_holds(t.engine)
    return _render(
        request,
        "overview.html",
        who,
        channels=channels,
        problems=problems,
        recent=recent.items,
        q=q or "",
        dependencies=own["dependencies"],
        publishers=publishers["dependencies"],
        active_holds=[h for h in all_holds if h.released_at is None],
        late_items=await holds.late_items(t.engine),
        hold_channels=sorted(t.settings.channel_names),
    )


async def unavailable_page(request: Request) -> HTMLResponse:
    """The 503 page a browser gets while a dependency is down, with each dependency's state."""
    report = await _tracker(request).readiness.report()
    response = _render(request, "unavailable.html", None, dependencies=report["dependencies"])
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@router.get("/contents/{content_id}", response_class=HTMLResponse)
async def content_page(request: Request, who: Viewer, content_id: str) -> Response:
    detail = await queries.get_content(_tracker(request).engine, content_id, visible_units(request, who))
    figures: dict[tuple[str, str], engagement.DeliveryEngagement] = {}
    if detail is not None:
        check_unit(request, who, Action.READ, detail.unit)
        figures = {
            (e.channel, e.account): e for e in await engagement.latest(_tracker(request).engine, content_id)
        }
    response = _render(request, "content.html", who, c=detail, content_id=content_id, engagement=figures)
    if detail is None:
        response.status_code = 404
    return response


@router.get("/deliveries/{delivery_id}", response_class=HTMLResponse)
async def delivery_page(
    request: Request, who: Viewer, delivery_id: recipients_api.DeliveryIdPath
) -> Response:
    """One delivery: its state and, for a list channel (e-mail), the counts and each recipient
    (names and outlets to who may see the press list: ``recipients_api``)."""
    t = _tracker(request)
    try:
        found = await recipients_api.delivery_recipients_for(t, request, who, delivery_id)
    except HTTPException as e:
        return message_page(request, str(e.detail), e.status_code)
    d = await queries.find_delivery(t.engine, delivery_id)
    return _render(request, "delivery.html", who, d=d, r=found)


@router.get("/units", response_class=HTMLResponse)
async def units_page(
    request: Request, who: Viewer, since: date | None = None, until: date | None = None
) -> Response:
    today = queries.start_of_today().date()
    since = since or today - timedelta(days=6)
    until = until or today
    stats = await queries.stats(
        _tracker(request).engine,
        queries.day_start(since),
        queries.day_start(until) + queries.DAY,
        _tracker(request).settings.tracker_on_time_s,
        visible_units(request, who),
    )
    return _render(request, "units.html", who, stats=stats, since=since, until=until)


def _optional(kind: Callable[[str], T], name: str, value: str) -> T | None:
    """A filter of the page's form: empty means none (a browser sends every field, empty or not)."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise HTTPException(422, f"{name}: {value!r} is not a valid value") from None


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    who: Auditor,
    actor: Annotated[str, Query(max_length=200)] = "",
    unit: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=40)] = "",
    since: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")] = "",
    until: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The audit log (admin), filtered by person, unit, action and days (Asia/Ho_Chi_Minh)."""
    first = _optional(date.fromisoformat, "since", since)
    last = _optional(date.fromisoformat, "until", until)
    f = AuditFilter(
        actor=actor or None,
        unit=unit or None,
        action=_optional(AuditAction, "action", action),
        since=queries.day_start(first) if first else None,
        until=queries.day_start(last) + queries.DAY if last else None,
    )
    engine = _tracker(request).engine
    entries = await list_entries(engine, f, page, AUDIT_PAGE_SIZE)
    form = {"actor": actor, "unit": unit, "action": action, "since": since, "until": until}
    export = {k: v for k, v in form.items() if v and k not in ("since", "until")}
    if f.since:
        export["since"] = f.since.isoformat()
    if f.until:
        export["until"] = f.until.isoformat()
    return _render(
        request,
        "audit.html",
        who,
        entries=entries,
        form=form,
        actions=list(AuditAction),
        people=await people(engine),
        query={k: v for k, v in form.items() if v},
        export_query=export,
        pages=-(-entries.total // AUDIT_PAGE_SIZE),
    )


@router.get("/accounts", response_class=HTMLResponse)
async def accounts_page(request: Request, who: AccountsAdmin) -> Response:
    """ "Tài khoản kênh" (admin): every channel account, its unit, expiry and state; add, change,
    remove through ``/api/v1/accounts`` (credentials write-only)."""
    t = _tracker(request)
    return _render(
        request,
        "accounts.html",
        who,
        accounts=await accounts.list_accounts(t.engine),
        channels=sorted(t.settings.channel_names),
        connect_forms=connect_forms(t.settings.channel_names),
    )


@router.get("/incidents", response_class=HTMLResponse)
async def incidents_page(request: Request, who: Viewer) -> Response:
    """The incidents ("Sự cố truyền thông"), open ones first, and the form that opens one."""
    found = await incidents.list_incidents(_tracker(request).engine, visible_units(request, who))
    return _render(request, "incidents.html", who, incidents=found, severities=list(incidents.Severity))


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(request: Request, who: Viewer, incident_id: incidents_api.IncidentId) -> Response:
    """One incident: its timeline across channels, notes, close, and the report once closed."""
    t = _tracker(request)
    found = await incidents.get_incident(t.engine, incident_id)
    if found is None:
        response = _render(request, "incident.html", who, i=None, incident_id=incident_id)
        response.status_code = 404
        return response
    incidents_api.check_units(request, who, Action.READ, found.units)
    full = await incidents_api.detail(t, request, found)
    return _render(request, "incident.html", who, i=full, incident_id=incident_id)

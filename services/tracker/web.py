"""The ops dashboard: server-rendered pages, live through SSE, Vietnamese by default."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from loa.access import Kind
from loa.access import Principal as Actor
from loa.audit import record
from loa.events import DEFAULT_TIMEZONE, AuditAction, AuditOutcome
from loa.mode import DEVELOPMENT
from loa.outages import RETRY_AFTER_SECONDS
from services.tracker import queries
from services.tracker.audit_log import ANONYMOUS, AuditFilter, actor, client_address, list_entries, people
from services.tracker.auth import CSRF_HEADER, SESSION_COOKIE, Authenticator, Principal, requires
from services.tracker.context import Tracker
from services.tracker.i18n import DEFAULT_LANG, LANGS, Translator
from services.tracker.login_throttle import LoginThrottle
from services.tracker.settings import Role

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
log = logging.getLogger(__name__)
LANG_COOKIE = "loa_lang"
SYSTEM_MAX_AGE_S = 5.0
"""The overview re-renders on every live change; its health card probes at most this often."""
router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(requires(Role.VIEWER))]
Admin = Annotated[Principal, Depends(requires(Role.ADMIN))]
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
            "can_act": principal is not None and principal.can(Role.OPERATOR),
            "csrf_header": CSRF_HEADER,
            # every page, the sign-in page too: nobody should mistake the sandbox for the platforms
            "sandbox": request.app.state.settings.mode == DEVELOPMENT,
            **context,
        },
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return response


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
    principal = auth.by_token(token.strip())
    if principal is None:
        throttle.failed(client)
        log.warning("dashboard sign-in refused: unknown token from %s", client)
        await _sign_in_refused(request, "unknown token")
        return _refused(request, next, "login_failed", 401)
    throttle.succeeded(client)
    session = await _tracker(request).sessions.open(principal.name, principal.role)
    log.info("dashboard sign-in: %s (%s) from %s", principal.name, principal.role.value, client)
    await record(_tracker(request).audit, actor(principal, request), AuditAction.SIGN_IN)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(_tracker(request).sessions.max_age.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_tracker(request).settings.cookie_secure,
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    whose = await _tracker(request).sessions.revoke(cookie) if cookie else None
    if whose is not None:
        log.info("dashboard sign-out: %s from %s", whose, client_address(request))
        who = Actor(whose, Kind.SERVICE, address=client_address(request))
        await record(_tracker(request).audit, who, AuditAction.SIGN_OUT)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=_tracker(request).settings.cookie_secure
    )
    return response


async def _sign_in_refused(request: Request, reason: str) -> None:
    """A failed sign-in names no one (the token matched nobody): the address is what is known."""
    who = Actor(ANONYMOUS, Kind.PERSON, address=client_address(request))
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
    channels = await queries.overview(t.engine)
    problems = await queries.problems(t.engine)
    recent = await queries.list_contents(t.engine, queries.ContentFilter(q=q), page_size=20)
    own, publishers = await asyncio.gather(
        t.readiness.recent(SYSTEM_MAX_AGE_S), t.publishers.recent(SYSTEM_MAX_AGE_S)
    )
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
    detail = await queries.get_content(_tracker(request).engine, content_id)
    response = _render(request, "content.html", who, c=detail, content_id=content_id)
    if detail is None:
        response.status_code = 404
    return response


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=DEFAULT_TIMEZONE)


@router.get("/units", response_class=HTMLResponse)
async def units_page(
    request: Request, who: Viewer, since: date | None = None, until: date | None = None
) -> Response:
    today = queries.start_of_today().date()
    since = since or today - timedelta(days=6)
    until = until or today
    stats = await queries.stats(
        _tracker(request).engine,
        _day_start(since),
        _day_start(until) + queries.DAY,
        _tracker(request).settings.tracker_on_time_s,
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
    who: Admin,
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
        since=_day_start(first) if first else None,
        until=_day_start(last) + queries.DAY if last else None,
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

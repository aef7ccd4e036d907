"""Who calls the tracker and whether they may: bearer tokens of service accounts, or the dashboard's
session cookie (a random id of a server-side session); every route asks ``loa.access.policy``.

``requires(action)`` is the one dependency of every route: it returns the ``loa.access.Principal``
and leaves the unit check to the handler once it knows the unit (``check_unit``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status

from loa.access import Principal
from loa.access.bearer import ADMIN_NAME, BearerTokens, configured_account
from loa.access.policy import Action, Policy
from loa.access.principal import ALL_UNITS, Kind, Role
from loa.access.tokens import TokenStore
from services.tracker.sessions import Sessions
from services.tracker.settings import TrackerSettings

SESSION_COOKIE = "loa_tracker_session"
CSRF_HEADER = "X-Loa-Csrf"


def bearer_tokens(settings: TrackerSettings, store: TokenStore) -> BearerTokens:
    """Issued tokens, and the deprecated ``LOA_TRACKER_TOKENS`` / ``LOA_API_TOKEN`` (the admin ``admin``)."""
    configured = [
        (t.token.get_secret_value(), configured_account(name, [t.role], t.units))
        for name, t in settings.tracker_tokens.items()
    ]
    admin = settings.api_token.get_secret_value()
    if admin and ADMIN_NAME not in settings.tracker_tokens:
        configured.append((admin, configured_account(ADMIN_NAME, [Role.ADMIN])))
    return BearerTokens(configured, store)


class Authenticator:
    def __init__(self, tokens: BearerTokens, policy: Policy) -> None:
        self.tokens = tokens
        self.policy = policy

    async def by_session(self, sessions: Sessions, cookie: str) -> Principal | None:
        """The principal of a live session: a person signed in with OpenID Connect (their grants as
        the provider gave them at sign-in), or a service account while its token is still configured
        with the same grants. Only configured tokens sign in to the dashboard; an issued token is
        for its service account's API calls."""
        live = await sessions.find(cookie)
        if live is None or not live.grants:
            return None
        if live.kind is Kind.PERSON:
            return live
        configured = self.tokens.configured_by_name(live.name)
        if configured is None or configured.grants != live.grants:
            return None  # the token was removed or its grants changed since sign-in
        return configured

    async def from_request(self, request: Request, sessions: Sessions) -> tuple[Principal | None, bool]:
        """The principal, and whether it came by cookie (a browser: its writes need the CSRF header)."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return await self.tokens.find(credentials.strip()), False
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await self.by_session(sessions, cookie), True
        return None, False


def requires(action: Action) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: 401 without valid credentials, 403 when no grant allows ``action``."""

    async def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        principal, via_cookie = await auth.from_request(request, request.app.state.tracker.sessions)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing, invalid, expired or revoked bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        refusal = auth.policy.refusal(principal, action)
        if refusal is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
        if (
            via_cookie
            and request.method not in ("GET", "HEAD")
            and CSRF_HEADER.lower() not in {k.lower() for k in request.headers}
        ):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"a browser action needs the {CSRF_HEADER} header")
        return principal

    dependency.action = action  # type: ignore[attr-defined]  # read by the permission matrix
    return dependency


def check_unit(request: Request, principal: Principal, action: Action, unit: str | None) -> None:
    """403 unless ``principal`` may ``action`` on the unit of a content (of no known unit: every unit)."""
    _check(request, principal, action, unit or ALL_UNITS)


def check_filter(request: Request, principal: Principal, action: Action, unit: str | None) -> None:
    """403 unless ``principal`` may ``action`` on the unit a list is filtered by (none: on some unit;
    the list itself shows only the units it may read)."""
    _check(request, principal, action, unit)


def _check(request: Request, principal: Principal, action: Action, unit: str | None) -> None:
    auth: Authenticator = request.app.state.auth
    refusal = auth.policy.refusal(principal, action, unit)
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)


def visible_units(request: Request, principal: Principal) -> frozenset[str] | None:
    """The units whose contents ``principal`` may read; ``None``: every unit."""
    auth: Authenticator = request.app.state.auth
    return auth.policy.units_for(principal, Action.READ)

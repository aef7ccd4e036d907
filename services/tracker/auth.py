"""Bearer tokens with roles, people signed in with OpenID Connect; the dashboard's session cookie
holds a random id of a server-side session."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from loa import access
from loa.access.principal import ALL_UNITS, Grant, Kind
from services.tracker.sessions import Sessions
from services.tracker.settings import ApiToken, Role

SESSION_COOKIE = "loa_tracker_session"
CSRF_HEADER = "X-Loa-Csrf"


# Until loa.access.policy decides per route and unit: the tracker's routes need viewer, operator or
# admin, and a grant of any unit gives the tracker role below (the highest of a principal's grants).
_TRACKER_ROLE = {
    access.Role.VIEWER: Role.VIEWER,
    access.Role.EDITOR: Role.VIEWER,
    access.Role.SPOKESPERSON: Role.VIEWER,
    access.Role.OPERATOR: Role.OPERATOR,
    access.Role.ADMIN: Role.ADMIN,
}


def tracker_role(grants: Iterable[Grant]) -> Role | None:
    """The tracker role that ``grants`` give, or None for a principal with no grant."""
    roles = [_TRACKER_ROLE[g.role] for g in grants]
    return max(roles, key=lambda r: r.rank) if roles else None


def service_account(name: str, role: Role) -> access.Principal:
    """The principal of a configured bearer token: its role on every unit."""
    return access.Principal(name, Kind.SERVICE, frozenset({Grant(access.Role(role.value), ALL_UNITS)}))


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    via_cookie: bool = False
    actor: access.Principal | None = None
    """Who it is: a person with their grants on units, or a service account (None: built by a test)."""

    def can(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    @property
    def label(self) -> str:
        return self.actor.label if self.actor else self.name

    @property
    def grants(self) -> list[Grant]:
        """The grants to show, sorted by unit then role."""
        return sorted(self.actor.grants, key=lambda g: (g.unit, g.role.value)) if self.actor else []


class Authenticator:
    def __init__(self, tokens: dict[str, ApiToken]) -> None:
        self._tokens = tokens

    def by_token(self, presented: str) -> Principal | None:
        found: Principal | None = None
        for name, t in self._tokens.items():
            # compare every token (no early exit) so timing says nothing about which matched
            if hmac.compare_digest(presented.encode(), t.token.get_secret_value().encode()):
                found = Principal(name, t.role, actor=service_account(name, t.role))
        return found

    async def by_session(self, sessions: Sessions, cookie: str) -> Principal | None:
        """The principal of a live session; a service account's only while its token is still
        configured with the same role."""
        actor = await sessions.find(cookie)
        role = None if actor is None else tracker_role(actor.grants)
        if actor is None or role is None:
            return None
        if actor.kind is Kind.SERVICE:
            configured = self._tokens.get(actor.name)
            if configured is None or configured.role is not role:
                return None  # the token was removed or its role changed since sign-in
        return Principal(actor.name, role, via_cookie=True, actor=actor)

    async def from_request(self, request: Request, sessions: Sessions) -> Principal | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return self.by_token(credentials.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await self.by_session(sessions, cookie)
        return None


def requires(role: Role):  # type: ignore[no-untyped-def]
    """A FastAPI dependency: 401 without valid credentials, 403 when the role is too low."""

    async def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        principal = await auth.from_request(request, request.app.state.tracker.sessions)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.can(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role")
        if (
            principal.via_cookie
            and request.method not in ("GET", "HEAD")
            and CSRF_HEADER.lower() not in {k.lower() for k in request.headers}
        ):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"a browser action needs the {CSRF_HEADER} header")
        return principal

    return dependency

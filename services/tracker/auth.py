"""Bearer tokens with roles; the dashboard's session cookie holds a random id of a server-side session."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from services.tracker.sessions import Sessions
from services.tracker.settings import ApiToken, Role

SESSION_COOKIE = "loa_tracker_session"
CSRF_HEADER = "X-Loa-Csrf"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    via_cookie: bool = False

    def can(self, role: Role) -> bool:
        return self.role.rank >= role.rank


class Authenticator:
    def __init__(self, tokens: dict[str, ApiToken]) -> None:
        self._tokens = tokens

    def by_token(self, presented: str) -> Principal | None:
        found: Principal | None = None
        for name, t in self._tokens.items():
            # compare every token (no early exit) so timing says nothing about which matched
            if hmac.compare_digest(presented.encode(), t.token.get_secret_value().encode()):
                found = Principal(name, t.role)
        return found

    async def by_session(self, sessions: Sessions, cookie: str) -> Principal | None:
        """The principal of a live session, while its token is still configured with the same role."""
        live = await sessions.find(cookie)
        if live is None:
            return None
        name, role = live
        configured = self._tokens.get(name)
        if configured is None or configured.role is not role:
            return None  # the token was removed or its role changed since sign-in
        return Principal(name, role, via_cookie=True)

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

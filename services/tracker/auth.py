"""Bearer tokens with roles; the dashboard's session cookie holds a token-derived MAC, not the token."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

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
        self._sessions = {name: _session_value(name, t) for name, t in tokens.items()}

    def by_token(self, presented: str) -> Principal | None:
        found: Principal | None = None
        for name, t in self._tokens.items():
            # compare every token (no early exit) so timing says nothing about which matched
            if hmac.compare_digest(presented.encode(), t.token.get_secret_value().encode()):
                found = Principal(name, t.role)
        return found

    def by_session(self, presented: str) -> Principal | None:
        found: Principal | None = None
        for name, value in self._sessions.items():
            if hmac.compare_digest(presented.encode(), value.encode()):
                found = Principal(name, self._tokens[name].role, via_cookie=True)
        return found

    def session_for(self, principal: Principal) -> str:
        return self._sessions[principal.name]

    def from_request(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return self.by_token(credentials.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return self.by_session(cookie)
        return None


def _session_value(name: str, token: ApiToken) -> str:
    mac = hmac.new(
        token.token.get_secret_value().encode(), b"loa-tracker-session:" + name.encode(), hashlib.sha256
    )
    return f"{name}.{mac.hexdigest()}"


def requires(role: Role):  # type: ignore[no-untyped-def]
    """A FastAPI dependency: 401 without valid credentials, 403 when the role is too low."""

    def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        principal = auth.from_request(request)
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

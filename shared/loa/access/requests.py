"""The actor of an HTTP request as the audit log records it: the authenticated principal, with the
address the request came from."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request

from loa.access.principal import Kind, Principal

ANONYMOUS = "anonymous"
"""The actor of a sign-in that matched no one: only the address is known."""


def client_address(request: Request) -> str:
    """The peer's address, or the X-Forwarded-For of a proxy uvicorn trusts (FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def actor(who: Principal | None, request: Request) -> Principal:
    """``who`` with the request's address; ``None`` (nobody matched): the anonymous actor."""
    if who is None:
        return Principal(ANONYMOUS, Kind.PERSON, address=client_address(request))
    return replace(who, address=client_address(request))

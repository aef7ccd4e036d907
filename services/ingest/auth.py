"""Bearer tokens per client, with roles; compared in constant time, never logged."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings, Role

ADMIN_CLIENT = "admin"
"""The client name of ``LOA_API_TOKEN``."""

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.UPLOADER: frozenset({"media"}),
    Role.PUBLISHER: frozenset({"media", "publish"}),
    Role.ADMIN: frozenset({"media", "publish", "retract"}),
}


@dataclass(frozen=True)
class Client:
    name: str
    role: Role

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


class TokenBook:
    """Who a token belongs to; every candidate is compared, so timing says nothing."""

    def __init__(self, settings: IngestSettings) -> None:
        self._entries: list[tuple[bytes, Client]] = [
            (entry.token.get_secret_value().encode(), Client(name, entry.role))
            for name, entry in settings.ingest_tokens.items()
            if entry.token.get_secret_value()
        ]
        admin = settings.api_token.get_secret_value()
        if admin:
            self._entries.append((admin.encode(), Client(ADMIN_CLIENT, Role.ADMIN)))

    def find(self, token: str) -> Client | None:
        presented = token.encode()
        found = None
        for secret, client in self._entries:
            if hmac.compare_digest(secret, presented) and found is None:
                found = client
        return found


def authenticate(request: Request, book: TokenBook, permission: str) -> Client:
    """The calling client, or 401 (no/unknown token) / 403 (role lacks ``permission``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required", headers=challenge)
    client = book.find(token.strip())
    if client is None:
        raise ApiError(401, "unauthorized", "unknown token", headers=challenge)
    if not client.may(permission):
        raise ApiError(403, "forbidden", f"role {client.role.value!r} may not {permission}")
    return client

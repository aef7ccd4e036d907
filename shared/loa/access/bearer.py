"""A bearer token → the service account it belongs to: a token issued with ``loa tokens issue``
(kept hashed in the shared table), or one still configured in the settings.

Configured tokens (``LOA_INGEST_TOKENS``, ``LOA_TRACKER_TOKENS``, ``LOA_API_TOKEN``) are deprecated:
they stay accepted so existing deployments keep working, each mapped to grants (see the services'
settings), and are compared in constant time against every entry so timing says nothing.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from loa.access.people import PersonTokens
from loa.access.principal import ALL_UNITS, Grant, Kind, Principal, Role
from loa.access.tokens import TOKEN_PREFIX, TokenStore

ADMIN_NAME = "admin"
"""The service account of ``LOA_API_TOKEN``."""
NO_UNIT = ""
"""The unit of a grant that covers no content (a content's unit is never empty): the ingest's
deprecated ``uploader`` is an editor on it, so it may upload media, which belong to no unit, and
submit nothing."""


def configured_account(name: str, roles: Iterable[Role], units: Iterable[str] = (ALL_UNITS,)) -> Principal:
    """The service account of a token configured in the settings."""
    unit_list = tuple(units) or (ALL_UNITS,)
    return Principal(name, Kind.SERVICE, frozenset(Grant(r, u) for r in roles for u in unit_list))


class BearerTokens:
    def __init__(
        self,
        configured: Iterable[tuple[str, Principal]],
        store: TokenStore,
        people: PersonTokens | None = None,
    ) -> None:
        self._configured = [(secret.encode(), who) for secret, who in configured if secret]
        self.store = store
        self.people = people
        """People's ID tokens, where the service accepts them (the ingest, for a person's own acts)."""

    def configured(self, token: str) -> Principal | None:
        presented = token.encode()
        found = None
        for secret, who in self._configured:
            if hmac.compare_digest(secret, presented) and found is None:
                found = who
        return found

    def configured_by_name(self, name: str) -> Principal | None:
        return next((who for _, who in self._configured if who.name == name), None)

    async def find(self, token: str) -> Principal | None:
        if token.startswith(TOKEN_PREFIX):
            return await self.store.find(token)
        found = self.configured(token)
        if found is None and self.people is not None and PersonTokens.looks_like_one(token):
            return await self.people.find(token)
        return found

"""Dashboard sessions kept server-side: the cookie is a random id; the table holds only its SHA-256
and the principal signed in (a person from OpenID Connect, or a service account's token name), never
a token in the clear.

A person's session also keeps their OpenID Connect ID token, which the approvals page forwards to
the ingest (the ingest verifies it itself). It is sealed (Fernet) with a key derived from the
cookie, which the tracker never stores: a copy of the table opens no token; only a request that
carries the cookie does.

A session ends at a fixed time after sign-in (no sliding renewal) or when its holder signs out;
either way the same cookie replayed later finds nothing.
(OWASP Session Management Cheat Sheet: random ids of at least 64 bits of entropy, server-side
expiry and invalidation on logout.)
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.access.principal import Grant, Kind, Principal, Role
from loa.events import utcnow
from services.tracker.tables import dashboard_sessions as t

SESSION_MAX_AGE = timedelta(hours=12)
"""Absolute lifetime of a dashboard session: one working day."""


def _digest(cookie: str) -> str:
    # A plain SHA-256 is enough: the id is 256 random bits, not a password to stretch. The lookup by
    # digest also keeps the database's comparison off the secret itself.
    return hashlib.sha256(cookie.encode()).hexdigest()


def _sealer(cookie: str) -> Fernet:
    # a key of its own, not the digest the table keeps: SHA-256 over a distinct label
    key = hashlib.sha256(b"loa-session-id-token\0" + cookie.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class Sessions:
    def __init__(self, engine: AsyncEngine, max_age: timedelta = SESSION_MAX_AGE) -> None:
        self._engine = engine
        self.max_age = max_age

    async def open(self, principal: Principal, id_token: str | None = None) -> str:
        """A new session of ``principal`` (a person's with their ID token); returns the cookie
        value, which is stored nowhere."""
        cookie = secrets.token_urlsafe(32)
        sealed = None if id_token is None else _sealer(cookie).encrypt(id_token.encode()).decode()
        now = utcnow()
        async with self._engine.begin() as conn:
            # sessions that ended are of no use; each sign-in sweeps them, so the table stays small
            await conn.execute(delete(t).where(t.c.expires_at < now))
            await conn.execute(
                insert(t).values(
                    id_sha256=_digest(cookie),
                    principal=principal.name,
                    kind=principal.kind.value,
                    display_name=principal.display_name,
                    grants=sorted([g.role.value, g.unit] for g in principal.grants),
                    created_at=now,
                    expires_at=now + self.max_age,
                    id_token_sealed=sealed,
                )
            )
        return cookie

    async def find(self, cookie: str) -> Principal | None:
        """The principal signed in, if the session is live (neither expired nor revoked)."""
        query = select(t.c.principal, t.c.kind, t.c.display_name, t.c.grants).where(
            t.c.id_sha256 == _digest(cookie), t.c.revoked_at.is_(None), t.c.expires_at > utcnow()
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        grants = frozenset(Grant(Role(role), unit) for role, unit in row.grants)
        return Principal(row.principal, Kind(row.kind), grants, display_name=row.display_name)

    async def id_token(self, cookie: str) -> str | None:
        """The ID token of a live person's session, opened with its cookie; None if it has none."""
        query = select(t.c.id_token_sealed).where(
            t.c.id_sha256 == _digest(cookie), t.c.revoked_at.is_(None), t.c.expires_at > utcnow()
        )
        async with self._engine.connect() as conn:
            sealed = (await conn.execute(query)).scalar()
        if sealed is None:
            return None
        try:
            return _sealer(cookie).decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    async def revoke(self, cookie: str) -> str | None:
        """End the session now; returns whose it was (for the audit log), or None if it was not live."""
        now = utcnow()
        digest = _digest(cookie)
        async with self._engine.begin() as conn:
            ended = await conn.execute(
                update(t)
                .where(t.c.id_sha256 == digest, t.c.revoked_at.is_(None), t.c.expires_at > now)
                .values(revoked_at=now)
                .returning(t.c.principal)
            )
            row = ended.first()
        return None if row is None else str(row.principal)

"""Service accounts' bearer tokens (content systems, CI): each bound to a name, roles on units and an
expiry, revocable, kept only as a SHA-256 digest.

A plain SHA-256 is enough: the token is 256 random bits (``secrets.token_urlsafe(32)``), not a
password a person chose, so there is nothing to stretch; a slow hash (bcrypt, Argon2) defends a
low-entropy secret against guessing, which 2**256 already rules out (OWASP Password Storage Cheat
Sheet: the slow hashes are for passwords). The lookup by digest also keeps the database's
comparison off the secret itself. The token is shown once, at issue, and never again.

The table lives in ``LOA_ACCESS_DATABASE_URL`` (default ``LOA_DATABASE_URL``), which the ingest
and the tracker both read; it has its own revisions (``access_alembic_version``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa import db
from loa.access.principal import Grant, Kind, Principal, Role
from loa.db import UtcDateTime
from loa.events import utcnow

TOKEN_PREFIX = "loa_sa_"  # noqa: S105  # a prefix, not a secret
"""Marks a service-account token, so secret scanners and people can tell what leaked."""
DEFAULT_LIFETIME = timedelta(days=90)

metadata = MetaData()
service_tokens = Table(
    "service_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(100), nullable=False, index=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("grants", Text, nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("issued_at", UtcDateTime(timezone=True), nullable=False),
    Column("expires_at", UtcDateTime(timezone=True), nullable=False),
    Column("revoked_at", UtcDateTime(timezone=True), nullable=True),
    Column("revoked_by", String(200), nullable=True),
)

MIGRATIONS = db.Migrations(
    folder=Path(__file__).resolve().parent / "migrations",
    metadata=metadata,
    version_table="access_alembic_version",
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _grants_json(grants: frozenset[Grant]) -> str:
    return json.dumps(sorted([g.role.value, g.unit] for g in grants), ensure_ascii=False)


def _grants(text: str) -> frozenset[Grant]:
    return frozenset(Grant(Role(role), unit) for role, unit in json.loads(text))


@dataclass(frozen=True)
class IssuedToken:
    """A row as ``loa tokens list`` shows it: never the token, nor its digest."""

    id: str
    name: str
    grants: frozenset[Grant]
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class TokenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def at(cls, url: str) -> TokenStore:
        return cls(db.make_engine(url))

    async def migrate(self) -> None:
        await db.migrate(self.engine, MIGRATIONS)

    async def close(self) -> None:
        await self.engine.dispose()

    async def issue(
        self, name: str, grants: frozenset[Grant], issued_by: str, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> tuple[IssuedToken, str]:
        """A new token for ``name``; returns its row and the token, which is stored nowhere."""
        if not grants:
            raise ValueError("a token needs at least one role on a unit")
        if lifetime <= timedelta(0):
            raise ValueError("a token's lifetime must be positive")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        row = IssuedToken(secrets.token_hex(6), name, grants, issued_by, now, now + lifetime, None)
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(service_tokens).values(
                    id=row.id,
                    name=name,
                    token_sha256=digest(token),
                    grants=_grants_json(grants),
                    issued_by=issued_by,
                    issued_at=now,
                    expires_at=row.expires_at,
                )
            )
        return row, token

    async def find(self, token: str) -> Principal | None:
        """The service account of a live token (neither expired nor revoked)."""
        t = service_tokens
        query = select(t.c.name, t.c.grants).where(
            t.c.token_sha256 == digest(token), t.c.revoked_at.is_(None), t.c.expires_at > utcnow()
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).first()
        return None if found is None else Principal(found.name, Kind.SERVICE, _grants(found.grants))

    async def list(self) -> list[IssuedToken]:
        t = service_tokens
        query = select(t).order_by(t.c.name, t.c.issued_at)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            IssuedToken(r.id, r.name, _grants(r.grants), r.issued_by, r.issued_at, r.expires_at, r.revoked_at)
            for r in rows
        ]

    async def revoke(self, token_id: str, revoked_by: str) -> bool:
        """End the token now; False if no live token has that id."""
        t = service_tokens
        async with self.engine.begin() as conn:
            ended = await conn.execute(
                update(t)
                .where(t.c.id == token_id, t.c.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_by=revoked_by)
            )
        return bool(ended.rowcount)

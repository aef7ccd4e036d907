"""A channel's accounts in its job store: credentials encrypted at rest (Fernet), versioned.

Every change bumps ``version``; the dispatcher reads versions on each claim, so an update made
by ``loa accounts update`` (which writes this table directly) takes effect without a restart and
is how an account parked by an ``AuthError`` comes back.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.channels import Account, Secret
from loa.events import utcnow
from loa.files import write_private
from loa.publisher.settings import DATA_DIR, PublisherSettings
from loa.publisher.store.schema import accounts

log = logging.getLogger(__name__)

DEV_KEY_FILE = Path(DATA_DIR) / "credentials.key"
_ENV_REF = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")


SEED_FINGERPRINT = "_seeded_from_file"
"""Credential key holding the fingerprint of the seed file's entry (see ``AccountStore.seed``)."""


class AccountError(ValueError):
    """An account operation that cannot be done (unknown name, duplicate, bad key)."""


@dataclass(frozen=True)
class AccountInfo:
    """What may be shown about an account: never its credentials."""

    channel: str
    name: str
    options: Mapping[str, Any]
    version: int
    parked: bool
    credential_names: tuple[str, ...]


class FoundAccount(NamedTuple):
    account: Account
    version: int
    parked_version: int | None
    """The version an AuthError (or the account check) parked, if any."""


class AccountVersion(NamedTuple):
    version: int
    parked_version: int | None

    @property
    def parked(self) -> bool:
        """The platform refused this very version: it waits until its credentials change."""
        return self.parked_version == self.version


class CachedAccount(NamedTuple):
    account: Account
    version: int


def load_cipher(settings: PublisherSettings) -> Fernet:
    """Fernet from ``LOA_CREDENTIALS_KEY``; without one (development), a key file made once in .loa/data."""
    key = settings.credentials_key.get_secret_value()
    if not key:
        if write_private(DEV_KEY_FILE, Fernet.generate_key()):
            log.warning("LOA_CREDENTIALS_KEY is not set: made a development key in %s", DEV_KEY_FILE)
        key = DEV_KEY_FILE.read_text().strip()
    try:
        return Fernet(key.encode())
    except ValueError as e:
        raise AccountError("LOA_CREDENTIALS_KEY is not a Fernet key (32 url-safe base64 bytes)") from e


class AccountStore:
    def __init__(self, engine: AsyncEngine, channel: str, cipher: Fernet) -> None:
        self.engine = engine
        self.channel = channel
        self._cipher = cipher
        self.written: dict[str, int] = {}
        """name → the version this process last wrote (e.g. rotated credentials)."""

    # ---- encryption ---------------------------------------------------------------------------

    def _encrypt(self, credentials: Mapping[str, str]) -> str:
        plain = {k: (v.reveal() if isinstance(v, Secret) else str(v)) for k, v in credentials.items()}
        return self._cipher.encrypt(json.dumps(plain).encode()).decode()

    def _decrypt(self, token: str, name: str) -> dict[str, Secret]:
        try:
            plain: dict[str, str] = json.loads(self._cipher.decrypt(token.encode()))
        except InvalidToken:
            raise AccountError(
                f"credentials of {self.channel}/{name} do not decrypt: LOA_CREDENTIALS_KEY changed?"
            ) from None
        return {k: Secret(v) for k, v in plain.items()}

    # ---- reading ------------------------------------------------------------------------------

    async def get(self, name: str, conn: AsyncConnection | None = None) -> FoundAccount | None:
        """The account with its credentials, its version and the version an AuthError parked (if any)."""
        stmt = select(accounts).where(accounts.c.channel == self.channel, accounts.c.name == name)
        if conn is None:
            async with self.engine.connect() as own:
                row = (await own.execute(stmt)).first()
        else:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        m = row._mapping
        account = Account(
            channel=self.channel,
            name=name,
            credentials=self._decrypt(m["credentials"], name),
            options=json.loads(m["options"]),
        )
        return FoundAccount(account, int(m["version"]), m["parked_version"])

    async def versions(self) -> dict[str, AccountVersion]:
        """name → (version, parked version): cheap, read on every claim."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(accounts.c.name, accounts.c.version, accounts.c.parked_version).where(
                        accounts.c.channel == self.channel
                    )
                )
            ).all()
        return {r.name: AccountVersion(int(r.version), r.parked_version) for r in rows}

    def cache(self) -> AccountCache:
        return AccountCache(self)

    async def list(self) -> list[AccountInfo]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(accounts).where(accounts.c.channel == self.channel).order_by(accounts.c.name)
                )
            ).all()
        return [
            AccountInfo(
                channel=self.channel,
                name=r.name,
                options=json.loads(r.options),
                version=int(r.version),
                parked=r.parked_version is not None and r.parked_version == r.version,
                credential_names=tuple(sorted(self._decrypt(r.credentials, r.name))),
            )
            for r in rows
        ]

    # ---- writing ------------------------------------------------------------------------------

    async def add(self, name: str, credentials: Mapping[str, str], options: Mapping[str, Any]) -> int:
        async with self.engine.begin() as conn:
            exists = (
                await conn.execute(
                    select(accounts.c.version).where(
                        accounts.c.channel == self.channel, accounts.c.name == name
                    )
                )
            ).first()
            if exists is not None:
                raise AccountError(f"account {self.channel}/{name} exists; use update")
            await conn.execute(
                insert(accounts).values(
                    channel=self.channel,
                    name=name,
                    credentials=self._encrypt(credentials),
                    options=json.dumps(dict(options), ensure_ascii=False),
                    version=1,
                    updated_at=utcnow(),
                )
            )
        return 1

    async def update(
        self,
        name: str,
        *,
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        merge: bool = True,
        bump: bool = True,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Change credentials and/or options (merged into the current ones unless ``merge=False``).

        ``bump=False`` keeps the version: a note beside the credentials (e.g. "a refresh is in
        flight") that must neither wake parked jobs nor make the dispatcher reload the account.
        """
        if conn is None:
            async with self.engine.begin() as own:
                return await self.update(
                    name, credentials=credentials, options=options, merge=merge, bump=bump, conn=own
                )
        current = await self.get(name, conn)
        if current is None:
            raise AccountError(f"no account {self.channel}/{name}")
        account, version, _ = current
        if not bump:
            version -= 1  # written back unchanged below
        values: dict[str, Any] = {"version": version + 1, "updated_at": utcnow()}
        if credentials is not None:
            merged = {**account.credentials, **credentials} if merge else dict(credentials)
            values["credentials"] = self._encrypt(merged)
        if options is not None:
            merged_options = {**account.options, **options} if merge else dict(options)
            values["options"] = json.dumps(merged_options, ensure_ascii=False)
        await conn.execute(
            update(accounts)
            .where(accounts.c.channel == self.channel, accounts.c.name == name)
            .values(**values)
        )
        if bump:
            self.written[name] = version + 1
        return version + 1

    async def remove(self, name: str) -> None:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(accounts).where(accounts.c.channel == self.channel, accounts.c.name == name)
            )
            if result.rowcount != 1:
                raise AccountError(f"no account {self.channel}/{name}")

    async def park(self, conn: AsyncConnection, name: str, version: int) -> None:
        """Mark ``version`` of the account as refused by the platform (until it changes)."""
        await conn.execute(
            update(accounts)
            .where(accounts.c.channel == self.channel, accounts.c.name == name, accounts.c.version == version)
            .values(parked_version=version)
        )

    # ---- seeding ------------------------------------------------------------------------------

    async def seed(self, path: str | Path) -> int:
        """Add or update this channel's accounts from a YAML file; returns how many changed.

        Format: ``accounts: [{channel, name, credentials: {k: v}, options: {k: v}}]``; a credential
        written ``${ENV_NAME}`` is read from the environment, so the file itself can hold no secret.
        """
        raw = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        data = yaml.safe_load(raw) or {}
        entries = data.get("accounts", []) if isinstance(data, dict) else []
        changed = 0
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or "channel" not in entry or "name" not in entry:
                raise AccountError(f"{path}: accounts[{index}] needs channel and name")
            if entry["channel"] != self.channel:
                continue
            name = str(entry["name"])
            credentials = {
                k: _resolve(str(v), f"{path}: accounts[{index}].credentials.{k}")
                for k, v in (entry.get("credentials") or {}).items()
            }
            options = dict(entry.get("options") or {})
            # The file's entry is fingerprinted (kept encrypted among the credentials): a restart
            # re-seeds an account only when its entry in the file changed, never over credentials
            # the channel has rotated since (a single-use refresh token written back would be dead).
            fingerprint = hashlib.sha256(
                json.dumps({"c": credentials, "o": options}, sort_keys=True).encode()
            ).hexdigest()
            marked = {**credentials, SEED_FINGERPRINT: fingerprint}
            current = await self.get(name)
            if current is None:
                await self.add(name, marked, options)
                changed += 1
                continue
            account, _, _ = current
            stored = account.credentials.get(SEED_FINGERPRINT)
            if stored is not None and stored.reveal() == fingerprint:
                continue
            await self.update(name, credentials=marked, options=options, merge=False)
            changed += 1
        return changed


def _resolve(value: str, where: str) -> str:
    match = _ENV_REF.match(value)
    if not match:
        return value
    resolved = os.environ.get(match.group(1))
    if resolved is None:
        raise AccountError(f"{where}: environment variable {match.group(1)} is not set")
    return resolved


class AccountCache:
    """Decrypted accounts kept in memory, each valid while its version is the one last read.

    ``refresh`` reads every version in one small query; ``get`` decrypts an account again only
    when its version changed since it was cached (``loa accounts update`` takes effect at once).
    """

    def __init__(self, store: AccountStore) -> None:
        self.store = store
        self.versions: dict[str, AccountVersion] = {}
        self.accounts: dict[str, CachedAccount] = {}

    async def refresh(self) -> None:
        self.versions = await self.store.versions()

    def cached(self, name: str) -> CachedAccount | None:
        """The account if it is cached at its current version (no I/O)."""
        current = self.versions.get(name)
        cached = self.accounts.get(name)
        if current is None or cached is None or cached.version != current.version:
            return None
        return cached

    async def get(self, name: str) -> FoundAccount | None:
        """As ``AccountStore.get``, from memory when the version is unchanged since ``refresh``."""
        current = self.versions.get(name)
        if current is None:
            self.accounts.pop(name, None)
            return None
        cached = self.cached(name)
        if cached is not None:
            return FoundAccount(cached.account, current.version, current.parked_version)
        found = await self.store.get(name)
        if found is not None:
            self.accounts[name] = CachedAccount(found.account, found.version)
        return found

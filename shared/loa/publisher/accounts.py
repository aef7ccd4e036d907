"""A channel's accounts in its job store: credentials encrypted at rest (Fernet), versioned.

Credentials are sealed together with the options that steer where they go (``sealing``).
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

from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.channels import Account
from loa.events import AccountCommand, RemoveAccount, utcnow
from loa.publisher.sealing import (
    AccountError,
    Opened,
    OptionsTamperedError,
    load_cipher,
    open_from_transit,
    open_sealed,
    seal,
)
from loa.publisher.store.schema import accounts

__all__ = ["AccountError", "AccountStore", "OptionsTamperedError", "load_cipher"]

log = logging.getLogger(__name__)

_ENV_REF = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")


SEED_FINGERPRINT = "_seeded_from_file"
"""Credential key holding the fingerprint of the seed file's entry (see ``AccountStore.seed``)."""


@dataclass(frozen=True)
class AccountInfo:
    """What may be shown about an account: never its credentials."""

    channel: str
    name: str
    options: Mapping[str, Any]
    version: int
    parked: bool
    credential_names: tuple[str, ...]
    tampered: bool = False
    """Its options were changed outside ``loa accounts``: refused until set again."""


def is_parked(version: int, parked_version: int | None) -> bool:
    """The platform refused this very version of the account (an AuthError or the account check
    parked it): it waits until its credentials change, which gives it a new version."""
    return parked_version == version


class FoundAccount(NamedTuple):
    account: Account
    version: int
    parked_version: int | None
    """The version an AuthError (or the account check) parked, if any."""

    @property
    def parked(self) -> bool:
        return is_parked(self.version, self.parked_version)


class AccountVersion(NamedTuple):
    version: int
    parked_version: int | None

    @property
    def parked(self) -> bool:
        return is_parked(self.version, self.parked_version)


class CachedAccount(NamedTuple):
    account: Account
    version: int


class AccountStore:
    def __init__(self, engine: AsyncEngine, channel: str, cipher: Fernet | MultiFernet) -> None:
        self.engine = engine
        self.channel = channel
        self._cipher = cipher
        self.written: dict[str, int] = {}
        """name → the version this process last wrote (e.g. rotated credentials)."""

    # ---- encryption ---------------------------------------------------------------------------

    def _seal(self, name: str, credentials: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        return seal(self._cipher, self.channel, name, credentials, options)

    def _open(self, row: Any) -> Opened:
        return open_sealed(self._cipher, self.channel, row.name, row.credentials, json.loads(row.options))

    # ---- reading ------------------------------------------------------------------------------

    async def get(self, name: str, conn: AsyncConnection | None = None) -> FoundAccount | None:
        """The account with its credentials, its version and the version an AuthError parked (if any).

        Options that no longer match those sealed with the credentials park the account and raise
        ``OptionsTamperedError`` (an ``AuthError``): the credentials never reach whatever they now name.
        """
        found = await self._read(name, conn)
        if found is None:
            return None
        row, opened = found
        if not opened.sealed and not opened.legacy:
            if conn is None:  # parked in a transaction of its own: seen by every replica at once
                async with self.engine.begin() as own:
                    await self.park(own, name, int(row.version))
            raise OptionsTamperedError(self.channel, name, int(row.version))
        account = Account(
            channel=self.channel, name=name, credentials=opened.credentials, options=json.loads(row.options)
        )
        return FoundAccount(account, int(row.version), row.parked_version)

    async def _read(self, name: str, conn: AsyncConnection | None) -> tuple[Any, Opened] | None:
        """The row and its opened credentials, whether or not its options verify."""
        stmt = select(accounts).where(accounts.c.channel == self.channel, accounts.c.name == name)
        if conn is None:
            async with self.engine.connect() as own:
                row = (await own.execute(stmt)).first()
        else:
            row = (await conn.execute(stmt)).first()
        return None if row is None else (row, self._open(row))

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
        infos = []
        for r in rows:
            opened = self._open(r)
            infos.append(
                AccountInfo(
                    channel=self.channel,
                    name=r.name,
                    options=json.loads(r.options),
                    version=int(r.version),
                    parked=is_parked(r.version, r.parked_version),
                    credential_names=tuple(sorted(opened.credentials)),
                    tampered=not opened.sealed and not opened.legacy,
                )
            )
        return infos

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
                    credentials=self._seal(name, credentials, options),
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
        The options are sealed again with the credentials; options changed outside ``loa
        accounts`` are only sealed again when new ones are given (a person looked at them).
        """
        if conn is None:
            async with self.engine.begin() as own:
                return await self.update(
                    name, credentials=credentials, options=options, merge=merge, bump=bump, conn=own
                )
        found = await self._read(name, conn)
        if found is None:
            raise AccountError(f"no account {self.channel}/{name}")
        row, opened = found
        if not opened.sealed and not opened.legacy and options is None:
            raise OptionsTamperedError(self.channel, name, int(row.version))
        version = int(row.version) - (0 if bump else 1)  # bump=False: written back unchanged below
        stored_options = json.loads(row.options)
        merged_options = stored_options
        if options is not None:
            merged_options = {**stored_options, **options} if merge else dict(options)
        merged: dict[str, Any] = dict(opened.credentials)
        if credentials is not None:
            merged = {**opened.credentials, **credentials} if merge else dict(credentials)
        values: dict[str, Any] = {
            "version": version + 1,
            "updated_at": utcnow(),
            "credentials": self._seal(name, merged, merged_options),
            "options": json.dumps(merged_options, ensure_ascii=False),
        }
        await conn.execute(
            update(accounts)
            .where(accounts.c.channel == self.channel, accounts.c.name == name)
            .values(**values)
        )
        if bump:
            self.written[name] = version + 1
        return version + 1

    async def remove(self, name: str) -> None:
        if not await self.discard(name):
            raise AccountError(f"no account {self.channel}/{name}")

    async def put(
        self, name: str, credentials: Mapping[str, str], options: Mapping[str, Any], *, replace: bool
    ) -> int:
        """Add the account, or change it as ``loa accounts update`` does (empty means unchanged)."""
        if await self._read(name, None) is None:
            return await self.add(name, credentials, options)
        return await self.update(
            name, credentials=credentials or None, options=options or None, merge=not replace
        )

    async def apply(self, command: AccountCommand) -> None:
        """An ``account.set``/``account.remove`` of the accounts API (another channel's is skipped).

        Both are idempotent, so a command read again after a crash changes nothing new. One that
        can never apply (credentials sealed for another account or under an unknown key; options
        changed outside Loa) is logged and skipped rather than retried forever.
        """
        ref = command.payload
        if ref.channel != self.channel:
            return
        extra = {"channel": ref.channel, "account": ref.account}
        try:
            if isinstance(command, RemoveAccount):
                removed = await self.discard(ref.account)
                log.info("account removed by %s (%s)", ref.requested_by, removed, extra=extra)
                return
            settings = command.payload
            credentials = (
                open_from_transit(self._cipher, ref.channel, ref.account, settings.credentials)
                if settings.credentials
                else {}
            )
            version = await self.put(ref.account, credentials, settings.options, replace=settings.replace)
            log.info("account set by %s: version %d", ref.requested_by, version, extra=extra)
        except (AccountError, OptionsTamperedError) as e:
            log.error("%s not applied: %s", command.type, e, extra=extra)

    async def discard(self, name: str) -> bool:
        """Remove the account if it is there; whether it was."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(accounts).where(accounts.c.channel == self.channel, accounts.c.name == name)
            )
        return bool(result.rowcount)

    async def park(self, conn: AsyncConnection, name: str, version: int) -> None:
        """Mark ``version`` of the account as refused by the platform (until it changes)."""
        await conn.execute(
            update(accounts)
            .where(accounts.c.channel == self.channel, accounts.c.name == name, accounts.c.version == version)
            .values(parked_version=version)
        )

    async def seal_legacy(self) -> None:
        """Seal the options of accounts written before they were sealed (on start, see ``sealing``)."""
        written, refused = await self.reseal(only_legacy=True)
        if written:
            log.warning(
                "%s: sealed the options of %d account(s) written before an upgrade", self.channel, written
            )
        for name in refused:
            log.warning("account %s/%s: options changed outside `loa accounts`", self.channel, name)

    async def reseal(self, *, only_legacy: bool) -> tuple[int, tuple[str, ...]]:
        """Seal every account again with the newest key (or only those written before options were
        sealed), in one transaction; the version stays (nothing changed for the dispatcher).

        Returns how many were written and the names refused (options changed outside ``loa
        accounts``: left as they are, to be set again with ``loa accounts update``).
        """
        written, refused = 0, tuple[str, ...]()
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(accounts).where(accounts.c.channel == self.channel))).all()
            for row in rows:
                opened = self._open(row)
                if not opened.sealed and not opened.legacy:
                    refused += (row.name,)
                    continue
                if only_legacy and not opened.legacy:
                    continue
                token = self._seal(row.name, opened.credentials, json.loads(row.options))
                await conn.execute(
                    update(accounts)
                    .where(accounts.c.channel == self.channel, accounts.c.name == row.name)
                    .values(credentials=token)
                )
                written += 1
        return written, refused

    # ---- seeding ------------------------------------------------------------------------------

    async def seed(self, path: str | Path) -> int:
        """Add or update this channel's accounts from a YAML file; returns how many changed.

        Format: ``accounts: [{channel, name, credentials: {k: v}, options: {k: v}}]``; a credential
        written ``${ENV_NAME}`` is read from the environment, so the file itself can hold no secret.
        """
        import yaml  # a seed file is a start's, or a development stack's: not every process's memory

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

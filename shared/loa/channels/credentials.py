"""Rotating credentials: an access token renewed with a refresh token the platform replaces each time.

Zalo OA and X (OAuth 2.0) answer a refresh with a new pair and kill the refresh token presented, so
a pair refreshed and then lost, or a refresh token presented twice, leaves the account unusable
until a person authorises the app again. The rules, each for that reason:

- **One refresh at a time per account**: an ``asyncio.Lock`` in the process and
  ``Context.credentials_lock`` across replicas; two refreshes would present one token twice.
- **Re-read under the lock** (``Context.reload_account``): a replica that waited uses the pair
  another one just stored instead of presenting the refresh token that pair replaced. A caller
  still holding a pair this process replaced follows it in memory without queueing for the lock.
- **Mark before the refresh** (``Context.mark_credentials``, :data:`MARKER`): the platform rotates
  the pair when it *receives* the refresh, so a crash between sending it and storing the answer
  loses the pair. The marker left behind is how the next refusal explains itself (the account
  goes to ``needs_attention`` saying the pair was lost mid-refresh, not merely refused); and the
  stored refresh token is still tried first (accepted if the crash came before the platform
  rotated).
- **Persist before use** (``Context.save_credentials``, the marker emptied): a token nobody has
  stored is never sent anywhere; if the store fails, the caller gets the error, not the token.
- **Shielded**: the exchange and its commit run in a task a cancellation of the caller (a timeout,
  the shutdown grace spent) does not stop, and ``aclose`` waits for it. Only a hard kill or a lost
  machine lands in the window between the platform rotating and the commit (one round trip plus
  one commit); no client can close it (services/zalo/README.md tells what was observed).

A channel supplies only its side (:class:`Rotation`): how to read its access token, whether it is
fresh, how to call the platform's refresh endpoint and which credentials to store from the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from loa.channels.base import Account, Context
from loa.channels.errors import AuthError

log = logging.getLogger(__name__)

MARKER = "refresh_started_at"
"""Persisted before a refresh is sent, emptied with the new pair: a crash in between leaves it."""
SUCCESSORS_KEPT = 16
"""How many replaced access tokens this process remembers the successor of."""
CLOSE_WAIT_S = 30.0


def fingerprint(token: str) -> str:
    """Names a token without showing it (a stored expiry's owner, a replaced token's successor)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def stored_value(account: Account, key: str) -> str:
    """The plain value of a credential, "" when the account has none (or an empty one)."""
    return account.secret(key) if account.credentials.get(key) else ""


def _plain(account: Account) -> dict[str, str]:
    return {k: account.secret(k) for k in account.credentials}


class Rotation(Protocol):
    """A channel's side of rotating credentials; the rules are :class:`RotatingCredentials`'."""

    def access_token(self, account: Account) -> str | None:
        """The access token the account holds; None when it holds none yet."""
        ...

    def fresh(self, account: Account) -> bool:
        """Whether the access token is good for a while yet (a refresh ahead of expiry)."""
        ...

    async def exchange(self, account: Account) -> Mapping[str, Any]:
        """Present the account's refresh token to the platform; its answer with the new pair.

        Raise ``AuthError`` when the platform refuses it (a person must re-authorise) and
        ``TransientError`` when it may be tried again."""
        ...

    def credentials_from(self, answer: Mapping[str, Any]) -> Mapping[str, str]:
        """The credentials to store from the platform's answer: the new pair and its expiries."""
        ...


class RotatingCredentials:
    """One account's rotating pair for a channel adapter; see the module's docstring for the rules."""

    def __init__(self, context: Context, rotation: Rotation) -> None:
        self.context = context
        self.rotation = rotation
        self._locks: dict[str, asyncio.Lock] = {}
        self._successors: dict[str, Account] = {}
        """A replaced access token (as a fingerprint) → the account holding its successor."""
        self._rotations: set[asyncio.Task[Account]] = set()

    async def current(self, account: Account) -> Account:
        """The account with an access token not about to expire, refreshing first if need be."""
        account = self._newest(account)
        return account if self.rotation.fresh(account) else await self.refresh(account)

    async def refresh(self, account: Account, rejected: str | None = None) -> Account:
        """The account with a fresh pair other than ``rejected`` (a token the platform just refused):
        one already rotated to, here or by another replica, else a new one."""
        newer = self._newest(account)
        if newer is not account and self._usable(newer, rejected):
            return newer  # this process rotated it already
        return await self._shielded(account, lambda stored: not self._usable(stored, rejected))

    async def renew(self, account: Account, due: Callable[[Account], bool]) -> Account:
        """Refresh even with a valid access token, if ``due`` still holds for the stored account
        (e.g. a refresh token past half its life, which a refresh renews)."""
        return await self._shielded(account, due)

    async def aclose(self) -> None:
        """Let a refresh in flight commit its pair before the HTTP client and the store close."""
        if self._rotations:
            await asyncio.wait(set(self._rotations), timeout=CLOSE_WAIT_S)

    def _usable(self, account: Account, rejected: str | None) -> bool:
        return self.rotation.fresh(account) and self.rotation.access_token(account) != rejected

    def _newest(self, account: Account) -> Account:
        """The newest pair this process knows for ``account`` (following rotations it made)."""
        for _ in range(SUCCESSORS_KEPT):
            token = self.rotation.access_token(account)
            newer = None if token is None else self._successors.get(fingerprint(token))
            if newer is None:
                break
            account = newer
        return account

    async def _shielded(self, account: Account, due: Callable[[Account], bool]) -> Account:
        """Once a refresh is sent its answer is always committed (or the process is gone)."""
        task = asyncio.ensure_future(self._rotate_if_due(account, due))
        self._rotations.add(task)
        task.add_done_callback(self._rotations.discard)
        return await asyncio.shield(task)

    @contextlib.asynccontextmanager
    async def _single_flight(self, account: Account) -> AsyncIterator[None]:
        """The process's lock first: its callers queue here, not each on a connection of the store."""
        local = self._locks.setdefault(account.name, asyncio.Lock())
        async with local, self.context.credentials_lock(account):
            yield

    async def _rotate_if_due(self, account: Account, due: Callable[[Account], bool]) -> Account:
        async with self._single_flight(account):
            stored = self._newest(await self.context.reload_account(account))
            if not due(stored):
                return stored  # rotated meanwhile, here or by another replica
            return await self._rotate(stored)

    async def _rotate(self, account: Account) -> Account:
        """Under the lock: mark, exchange, persist the new pair (marker emptied), then use it."""
        interrupted = stored_value(account, MARKER)
        started = datetime.now(UTC).isoformat()
        marked = await self.context.mark_credentials(account, {**_plain(account), MARKER: started})
        try:
            answer = await self.rotation.exchange(marked)
        except AuthError as e:
            if not interrupted:
                raise
            raise AuthError(
                f"{e.message} (a refresh started at {interrupted} was interrupted after it was sent, "
                "so the platform most likely rotated the pair and its answer was lost)",
                code=e.code,
                excerpt=e.excerpt,
            ) from e
        new = {**_plain(marked), **self.rotation.credentials_from(answer), MARKER: ""}
        saved = await self.context.save_credentials(marked, new)  # durable before use
        self._remember(account, saved)
        log.info("rotated the credentials of %s account %s", account.channel, account.name)
        return saved

    def _remember(self, replaced: Account, successor: Account) -> None:
        token = self.rotation.access_token(replaced)
        if token is None:
            return
        if len(self._successors) >= SUCCESSORS_KEPT:
            self._successors.pop(next(iter(self._successors)))
        self._successors[fingerprint(token)] = successor


class UnsharedCredentials:
    """The credentials part of a ``Context`` that one process alone uses and that stores nothing a
    replica could read (a dry run, a test or a bench of a channel whose credentials do not rotate):
    no lock beyond :class:`RotatingCredentials`' own, the stored account is the one given, and a
    marker is not kept."""

    def credentials_lock(self, account: Account) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def reload_account(self, account: Account) -> Account:
        return account

    async def mark_credentials(self, account: Account, values: Mapping[str, str]) -> Account:
        return account

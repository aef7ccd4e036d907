"""Zalo OA tokens: a refresh token is single-use, so losing the new pair means a person must
re-authorise the OA. Hence: one refresh at a time per OA (in this process and, through the
runtime's credentials lock, across replicas), the latest persisted pair re-read under the lock,
the new pair persisted durably before it is used, and a refresh ahead of expiry.

The one window no client can close: Zalo rotates the pair when it *receives* the refresh; a crash
after that and before the answer is persisted (one round trip plus one commit) loses the pair.
What this module does about it:
- a marker (``refresh_started_at``) is persisted before the refresh is sent and cleared with the
  new pair, so after a crash the stored refresh token is tried again (Zalo accepts it if the kill
  came before Zalo rotated) and, if refused, the ``AuthError`` says the pair was lost mid-refresh;
- the exchange and the commit run in a task that a cancellation (shutdown grace spent, a timeout
  around the publish) does not interrupt, and ``aclose`` waits for it: only a hard kill or a lost
  machine can land in the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import Account, AuthError, TransientError

log = logging.getLogger(__name__)

REFRESH_TOKEN_LIFETIME = timedelta(days=90)  # "about 3 months" (Zalo OA docs)
REFRESH_MARKER = "refresh_started_at"
"""Persisted before a refresh is sent, emptied with the new pair: a crash in between leaves it."""
SUCCESSORS_KEPT = 16


def fingerprint(token: str) -> str:
    """Ties a stored expiry to the refresh token it belongs to (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _expires(account: Account, key: str) -> datetime | None:
    if not account.credentials.get(key) or not account.secret(key):
        return None
    return datetime.fromisoformat(account.secret(key))


def _plain(account: Account) -> dict[str, str]:
    return {k: account.secret(k) for k in account.credentials}


def refresh_expiry(account: Account) -> datetime | None:
    """When the stored refresh token expires; None when unknown (e.g. a person pasted a new pair)."""
    expires = _expires(account, "refresh_expires_at")
    stored_for = account.credentials.get("refresh_fingerprint")
    if expires is None or stored_for is None or "refresh_token" not in account.credentials:
        return None
    return expires if stored_for.reveal() == fingerprint(account.secret("refresh_token")) else None


class TokenManager:
    def __init__(
        self, http: httpx.AsyncClient, oauth_url: str, context: Any, refresh_ahead: timedelta
    ) -> None:
        self.http = http
        self.url = oauth_url.rstrip("/") + "/v4/oa/access_token"
        self.context = context
        self.refresh_ahead = refresh_ahead
        self._locks: dict[str, asyncio.Lock] = {}
        self._successor: dict[str, Account] = {}
        """Access token (as a fingerprint) → the account with the pair that replaced it, so a
        publish still holding the old account skips the lock instead of queueing for it."""
        self._rotations: set[asyncio.Task[tuple[str, Account]]] = set()

    def fresh(self, account: Account) -> bool:
        expires = _expires(account, "access_expires_at")
        return expires is not None and expires - self.refresh_ahead > datetime.now(UTC)

    def _newest(self, account: Account) -> Account:
        """The newest pair this process knows for ``account`` (following rotations it made)."""
        seen = 0
        while "access_token" in account.credentials and seen < SUCCESSORS_KEPT:
            newer = self._successor.get(fingerprint(account.secret("access_token")))
            if newer is None:
                break
            account, seen = newer, seen + 1
        return account

    async def token(self, account: Account) -> tuple[str, Account]:
        """A valid access token, refreshing first if it is about to expire."""
        account = self._newest(account)
        if self.fresh(account):
            return account.secret("access_token"), account
        return await self.refresh(account)

    @contextlib.asynccontextmanager
    async def _single_flight(self, account: Account) -> AsyncIterator[None]:
        local = self._locks.setdefault(account.name, asyncio.Lock())
        shared = getattr(self.context, "credentials_lock", None)
        async with local:
            if shared is None:
                yield
            else:
                async with shared(account):
                    yield

    async def refresh(
        self, account: Account, rejected: str | None = None, *, renew: bool = False
    ) -> tuple[str, Account]:
        """Refresh once per OA at a time; ``rejected`` is a token Zalo just refused; ``renew``:
        refresh even with a valid access token if the refresh token is past half its life.

        Runs in a task of its own that a cancellation of the caller does not stop: once the
        refresh is sent, the answer is always committed (or the process is gone).
        """
        newer = self._newest(account)
        if not renew and newer is not account and self.fresh(newer):
            return newer.secret("access_token"), newer  # this process rotated it already
        task = asyncio.ensure_future(self._refresh_locked(account, rejected, renew))
        self._rotations.add(task)
        task.add_done_callback(self._rotations.discard)
        return await asyncio.shield(task)

    async def _refresh_locked(
        self, account: Account, rejected: str | None, renew: bool
    ) -> tuple[str, Account]:
        async with self._single_flight(account):
            reload = getattr(self.context, "reload_account", None)
            if reload is not None:
                account = await reload(account)
            account = self._newest(account)
            current = account.secret("access_token") if "access_token" in account.credentials else None
            if renew:
                if not self.refresh_token_old(account):
                    return account.secret("access_token"), account  # renewed meanwhile
            elif self.fresh(account) and current != rejected:
                return account.secret("access_token"), account  # another worker refreshed already
            return await self._rotate(account)

    async def _rotate(self, account: Account) -> tuple[str, Account]:
        """Under the lock: mark, exchange, persist the new pair (cleared marker), then use it."""
        interrupted = account.secret(REFRESH_MARKER) if account.credentials.get(REFRESH_MARKER) else ""
        started = datetime.now(UTC).isoformat()
        mark = getattr(self.context, "mark_credentials", self.context.save_credentials)
        marked = await mark(account, {**_plain(account), REFRESH_MARKER: started})
        pair = await self._exchange(marked, interrupted)
        now = datetime.now(UTC)
        credentials = {
            **_plain(marked),
            "access_token": pair["access_token"],
            "refresh_token": pair["refresh_token"],
            "access_expires_at": (now + timedelta(seconds=int(pair.get("expires_in", 90000)))).isoformat(),
            "refresh_expires_at": (now + REFRESH_TOKEN_LIFETIME).isoformat(),
            "refresh_fingerprint": fingerprint(pair["refresh_token"]),
            REFRESH_MARKER: "",
        }
        saved = await self.context.save_credentials(marked, credentials)  # durable before use
        if "access_token" in account.credentials:
            if len(self._successor) >= SUCCESSORS_KEPT:
                self._successor.pop(next(iter(self._successor)))
            self._successor[fingerprint(account.secret("access_token"))] = saved
        log.info("refreshed the tokens of Zalo OA %s", account.name)
        return pair["access_token"], saved

    async def _exchange(self, account: Account, interrupted: str) -> dict[str, str]:
        try:
            response = await self.http.post(
                self.url,
                headers={"secret_key": account.secret("secret_key")},
                data={
                    "app_id": account.secret("app_id"),
                    "refresh_token": account.secret("refresh_token"),
                    "grant_type": "refresh_token",
                },
            )
        except httpx.TransportError as e:
            raise TransientError(f"Zalo OAuth unreachable: {type(e).__name__}") from e
        if response.status_code >= 500:
            raise TransientError(
                f"Zalo OAuth answered HTTP {response.status_code}", code=response.status_code
            )
        body = response.json()
        if "access_token" not in body:
            why = (
                f"a refresh started at {interrupted} was interrupted after it was sent, so Zalo "
                "most likely rotated the pair and its answer was lost"
                if interrupted
                else f"Zalo refused the refresh token ({body.get('error')}: {body.get('error_name')})"
            )
            raise AuthError(
                f"Zalo OA {account.name}: {why}; a person must re-authorise the OA",
                code=body.get("error"),
            )
        return {k: str(v) for k, v in body.items()}

    def refresh_token_expiring(self, account: Account, warn: timedelta) -> bool:
        expires = refresh_expiry(account)
        return expires is not None and expires - warn < datetime.now(UTC)

    def refresh_token_old(self, account: Account) -> bool:
        """Past half its life, or of unknown age: refreshing now renews it for 3 more months."""
        expires = refresh_expiry(account)
        return expires is None or expires - REFRESH_TOKEN_LIFETIME / 2 < datetime.now(UTC)

    async def aclose(self) -> None:
        """Let a refresh in flight commit its pair before the HTTP client and the store close."""
        if self._rotations:
            await asyncio.wait(set(self._rotations), timeout=30)

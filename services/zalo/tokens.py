"""Zalo OA tokens: a refresh token is single-use, so losing the new pair means a person must
re-authorise the OA. Hence: one refresh at a time per OA (in this process and, through the
runtime's credentials lock, across replicas), the latest persisted pair re-read under the lock,
the new pair persisted durably before it is used, and a refresh ahead of expiry.

The one window no client can close: Zalo rotates the pair when it *receives* the refresh; a crash
after that and before the answer is persisted (one round trip plus one commit) loses the pair.
The token is written before anything else happens with it, and the account goes to
``needs_attention`` with a clear reason if Zalo later refuses the refresh token.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import Account, AuthError, TransientError

REFRESH_TOKEN_LIFETIME = timedelta(days=90)  # "about 3 months" (Zalo OA docs)


def _expires(account: Account, key: str) -> datetime | None:
    if key not in account.credentials:
        return None
    return datetime.fromisoformat(account.secret(key))


class TokenManager:
    def __init__(
        self, http: httpx.AsyncClient, oauth_url: str, context: Any, refresh_ahead: timedelta
    ) -> None:
        self.http = http
        self.url = oauth_url.rstrip("/") + "/v4/oa/access_token"
        self.context = context
        self.refresh_ahead = refresh_ahead
        self._locks: dict[str, asyncio.Lock] = {}

    def fresh(self, account: Account) -> bool:
        expires = _expires(account, "access_expires_at")
        return expires is not None and expires - self.refresh_ahead > datetime.now(UTC)

    async def token(self, account: Account) -> tuple[str, Account]:
        """A valid access token, refreshing first if it is about to expire."""
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

    async def refresh(self, account: Account, rejected: str | None = None) -> tuple[str, Account]:
        """Refresh once per OA at a time; ``rejected`` is a token Zalo just refused."""
        async with self._single_flight(account):
            reload = getattr(self.context, "reload_account", None)
            if reload is not None:
                account = await reload(account)
            current = account.secret("access_token") if "access_token" in account.credentials else None
            if self.fresh(account) and current != rejected:
                return account.secret("access_token"), account  # another worker refreshed already
            pair = await self._exchange(account)
            now = datetime.now(UTC)
            credentials = {
                **{k: account.secret(k) for k in account.credentials},
                "access_token": pair["access_token"],
                "refresh_token": pair["refresh_token"],
                "access_expires_at": (
                    now + timedelta(seconds=int(pair.get("expires_in", 90000)))
                ).isoformat(),
                "refresh_expires_at": (now + REFRESH_TOKEN_LIFETIME).isoformat(),
            }
            account = await self.context.save_credentials(account, credentials)  # durable before use
            return pair["access_token"], account

    async def _exchange(self, account: Account) -> dict[str, str]:
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
            raise AuthError(
                f"Zalo refused the refresh token of OA {account.name} ({body.get('error')}: "
                f"{body.get('error_name')}); a person must re-authorise the OA",
                code=body.get("error"),
            )
        return {k: str(v) for k, v in body.items()}

    def refresh_token_expiring(self, account: Account, warn: timedelta) -> bool:
        expires = _expires(account, "refresh_expires_at")
        return expires is not None and expires - warn < datetime.now(UTC)

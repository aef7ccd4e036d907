"""OAuth 2.0 user tokens of an X account: Bearer auth, refreshed with rotation.

``POST /2/oauth2/token`` with ``grant_type=refresh_token`` (a confidential client authenticates
with HTTP Basic ``client_id:client_secret``) answers a new access token (2 hours) and a new
refresh token; the old refresh token stops working (docs.x.com/resources/fundamentals/
authentication/oauth-2-0/user-access-token). So, as for Zalo: one refresh at a time per account
(in the process and across replicas through ``context.credentials_lock``), the stored pair re-read
under the lock, the new pair persisted (``save_credentials``) before it is used, and the exchange
shielded from cancellation. A refused refresh token needs a person to authorise the app again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import Account, AuthError, TransientError

ACCESS = "oauth2_access_token"
REFRESH = "oauth2_refresh_token"
EXPIRES = "oauth2_expires_at"
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 - a path, not a secret
REFRESH_AHEAD = timedelta(minutes=2)


def uses_oauth2(account: Account) -> bool:
    return ACCESS in account.credentials


class TokenRejectedError(AuthError):
    """X answered 401 to an OAuth 2.0 access token: refresh once and try again."""


class OAuth2Tokens:
    def __init__(self, base_url: str, context: Any, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + TOKEN_PATH
        self.context = context
        self.timeout = timeout
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def fresh(account: Account) -> bool:
        """Unknown expiry counts as fresh: X's 401 says when it is not."""
        if not account.credentials.get(EXPIRES) or not account.secret(EXPIRES):
            return True
        return datetime.fromisoformat(account.secret(EXPIRES)) - REFRESH_AHEAD > datetime.now(UTC)

    async def current(self, account: Account) -> Account:
        """The account with an access token not about to expire."""
        return account if self.fresh(account) else await self.refresh(account, account.secret(ACCESS))

    @contextlib.asynccontextmanager
    async def _single_flight(self, account: Account) -> AsyncIterator[None]:
        async with self._locks.setdefault(account.name, asyncio.Lock()):
            shared = getattr(self.context, "credentials_lock", None)
            if shared is None:
                yield
                return
            async with shared(account):
                yield

    async def refresh(self, account: Account, rejected: str) -> Account:
        """Refresh unless another worker already replaced ``rejected``; survives a cancellation."""
        return await asyncio.shield(asyncio.ensure_future(self._refresh_locked(account, rejected)))

    async def _refresh_locked(self, account: Account, rejected: str) -> Account:
        async with self._single_flight(account):
            reload = getattr(self.context, "reload_account", None)
            if reload is not None:
                account = await reload(account)
            if account.secret(ACCESS) != rejected and self.fresh(account):
                return account  # refreshed meanwhile (here or by another replica)
            pair = await self._exchange(account)
            now = datetime.now(UTC)
            credentials = {
                **{k: account.secret(k) for k in account.credentials},
                ACCESS: pair["access_token"],
                REFRESH: pair["refresh_token"],
                EXPIRES: (now + timedelta(seconds=int(pair.get("expires_in", 7200)))).isoformat(),
            }
            saved: Account = await self.context.save_credentials(account, credentials)  # before use
            return saved

    async def _exchange(self, account: Account) -> dict[str, Any]:
        client_id = account.secret("client_id")
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(
                    self.url,
                    auth=(client_id, account.secret("client_secret")),
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": account.secret(REFRESH),
                        "client_id": client_id,
                    },
                )
        except httpx.TransportError as e:
            raise TransientError(f"X OAuth 2.0 token endpoint unreachable: {type(e).__name__}") from e
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(
                f"X token endpoint answered {response.status_code}", code=response.status_code
            )
        body: dict[str, Any] = response.json() if response.content else {}
        if response.status_code != 200 or "access_token" not in body or "refresh_token" not in body:
            raise AuthError(
                f"X refused the OAuth 2.0 refresh token of account {account.name} "
                f"({body.get('error', response.status_code)}: {body.get('error_description', '')}); "
                "a person must re-authorise the app for this account",
                code=response.status_code,
            )
        return body

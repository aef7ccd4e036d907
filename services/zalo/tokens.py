"""Zalo OA tokens: the refresh token is single-use, so losing the new pair means a person must
re-authorise the OA. The rules of the rotation (one refresh at a time across replicas, the stored
pair re-read under the lock, a marker before the refresh, the new pair persisted before use, the
exchange shielded from cancellation) are ``loa.channels.credentials``'; this module is Zalo's side:
its pair, the expiry of both tokens, and the OAuth endpoint. The one window no client can close
(a hard kill while Zalo has rotated the pair and the answer is not committed yet) and what was
observed of it: README.md beside this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import Account, AuthError, Context, TransientError
from loa.channels.credentials import RotatingCredentials, fingerprint, stored_value
from loa.channels.http import retryable

REFRESH_TOKEN_LIFETIME = timedelta(days=90)  # "about 3 months" (Zalo OA docs)


def _expires(account: Account, key: str) -> datetime | None:
    value = stored_value(account, key)
    return datetime.fromisoformat(value) if value else None


def refresh_expiry(account: Account) -> datetime | None:
    """When the stored refresh token expires; None when unknown (e.g. a person pasted a new pair)."""
    expires = _expires(account, "refresh_expires_at")
    stored_for = account.credentials.get("refresh_fingerprint")
    if expires is None or stored_for is None or "refresh_token" not in account.credentials:
        return None
    return expires if stored_for.reveal() == fingerprint(account.secret("refresh_token")) else None


class TokenManager:
    """Zalo's side of the rotation (``loa.channels.credentials.Rotation``) and the adapter's calls."""

    def __init__(
        self, http: httpx.AsyncClient, oauth_url: str, context: Context, refresh_ahead: timedelta
    ) -> None:
        self.http = http
        self.url = oauth_url.rstrip("/") + "/v4/oa/access_token"
        self.refresh_ahead = refresh_ahead
        self.rotating = RotatingCredentials(context, self)

    # -- the adapter's calls: (access token, the account holding it) --------------------------
    async def token(self, account: Account) -> tuple[str, Account]:
        """A valid access token, refreshing first if it is about to expire."""
        return _with_token(await self.rotating.current(account))

    async def refresh(
        self, account: Account, rejected: str | None = None, *, renew: bool = False
    ) -> tuple[str, Account]:
        """Refresh once per OA at a time; ``rejected`` is a token Zalo just refused; ``renew``:
        refresh even with a valid access token if the refresh token is past half its life."""
        if renew:
            return _with_token(await self.rotating.renew(account, self.refresh_token_old))
        return _with_token(await self.rotating.refresh(account, rejected))

    def refresh_token_expiring(self, account: Account, warn: timedelta) -> bool:
        expires = refresh_expiry(account)
        return expires is not None and expires - warn < datetime.now(UTC)

    def refresh_token_old(self, account: Account) -> bool:
        """Past half its life, or of unknown age: refreshing now renews it for 3 more months."""
        expires = refresh_expiry(account)
        return expires is None or expires - REFRESH_TOKEN_LIFETIME / 2 < datetime.now(UTC)

    async def aclose(self) -> None:
        await self.rotating.aclose()

    # -- Zalo's side of the rotation -----------------------------------------------------------
    def access_token(self, account: Account) -> str | None:
        return account.secret("access_token") if "access_token" in account.credentials else None

    def fresh(self, account: Account) -> bool:
        expires = _expires(account, "access_expires_at")
        return expires is not None and expires - self.refresh_ahead > datetime.now(UTC)

    async def exchange(self, account: Account) -> dict[str, str]:
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
        if retryable(response.status_code):
            raise TransientError(
                f"Zalo OAuth answered HTTP {response.status_code}", code=response.status_code
            )
        body = response.json()
        if "access_token" not in body:
            raise AuthError(
                f"Zalo OA {account.name}: Zalo refused the refresh token "
                f"({body.get('error')}: {body.get('error_name')}); a person must re-authorise the OA",
                code=body.get("error"),
            )
        return {k: str(v) for k, v in body.items()}

    def credentials_from(self, answer: Mapping[str, Any]) -> dict[str, str]:
        now = datetime.now(UTC)
        return {
            "access_token": answer["access_token"],
            "refresh_token": answer["refresh_token"],
            "access_expires_at": (now + timedelta(seconds=int(answer.get("expires_in", 90000)))).isoformat(),
            "refresh_expires_at": (now + REFRESH_TOKEN_LIFETIME).isoformat(),
            "refresh_fingerprint": fingerprint(answer["refresh_token"]),
        }


def _with_token(account: Account) -> tuple[str, Account]:
    return account.secret("access_token"), account

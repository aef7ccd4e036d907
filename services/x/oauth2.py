"""OAuth 2.0 user tokens of an X account: Bearer auth, refreshed with rotation.

``POST /2/oauth2/token`` with ``grant_type=refresh_token`` (a confidential client authenticates
with HTTP Basic ``client_id:client_secret``) answers a new access token (2 hours) and a new
refresh token; the old refresh token stops working (docs.x.com/resources/fundamentals/
authentication/oauth-2-0/user-access-token). So, as for Zalo, the rotation follows the rules of
``loa.channels.credentials`` (one refresh at a time across replicas, the stored pair re-read under
the lock, a marker before the refresh, the new pair persisted before use, the exchange shielded
from cancellation); this module is X's side. A refused refresh token needs a person to authorise
the app again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import Account, AuthError, Context, TransientError
from loa.channels.credentials import RotatingCredentials, stored_value
from loa.channels.http import retryable
from loa.tls import client_context

ACCESS = "oauth2_access_token"
REFRESH = "oauth2_refresh_token"
EXPIRES = "oauth2_expires_at"
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 - a path, not a secret
REFRESH_AHEAD = timedelta(minutes=2)


def uses_oauth2(account: Account) -> bool:
    return ACCESS in account.credentials


def pair_from(answer: Mapping[str, Any]) -> dict[str, str]:
    """The account's credentials from a token endpoint's answer (a refresh, or Connect's code)."""
    expires_in = timedelta(seconds=int(answer.get("expires_in", 7200)))
    return {
        ACCESS: str(answer["access_token"]),
        REFRESH: str(answer["refresh_token"]),
        EXPIRES: (datetime.now(UTC) + expires_in).isoformat(),
    }


class TokenRejectedError(AuthError):
    """X answered 401 to an OAuth 2.0 access token: refresh once and try again."""


class OAuth2Tokens:
    """X's side of the rotation (``loa.channels.credentials.Rotation``) and the adapter's calls."""

    def __init__(self, base_url: str, context: Context, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + TOKEN_PATH
        self.timeout = timeout
        self.rotating = RotatingCredentials(context, self)

    async def current(self, account: Account) -> Account:
        """The account with an access token not about to expire."""
        return await self.rotating.current(account)

    async def refresh(self, account: Account, rejected: str) -> Account:
        """Refresh unless another worker already replaced ``rejected``; survives a cancellation."""
        return await self.rotating.refresh(account, rejected)

    async def aclose(self) -> None:
        await self.rotating.aclose()

    # -- X's side of the rotation --------------------------------------------------------------
    def access_token(self, account: Account) -> str | None:
        return account.secret(ACCESS) if uses_oauth2(account) else None

    def fresh(self, account: Account) -> bool:
        """Unknown expiry counts as fresh: X's 401 says when it is not."""
        expires = stored_value(account, EXPIRES)
        return not expires or datetime.fromisoformat(expires) - REFRESH_AHEAD > datetime.now(UTC)

    def credentials_from(self, answer: Mapping[str, Any]) -> dict[str, str]:
        return pair_from(answer)

    async def exchange(self, account: Account) -> dict[str, Any]:
        client_id = account.secret("client_id")
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=client_context()) as http:
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
        if retryable(response.status_code):
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

"""OAuth v2 user tokens of a TikTok account: Bearer auth, refreshed, the refresh token rotated.

``POST /v2/oauth/token/`` (form: ``client_key``, ``client_secret``, ``grant_type=refresh_token``,
``refresh_token``) answers ``access_token``, ``expires_in``, ``refresh_token``,
``refresh_expires_in``, ``open_id``, ``scope``, ``token_type`` (developers.tiktok.com/doc/
oauth-user-access-token-management: access token 24 hours, refresh token 365 days, "the returned
refresh token may be different than the one passed in"; its newer page …/docs/en/
oauth-refresh-a-user-access-token: 2 hours, 180 days, always a new refresh token, the old one
stops working). Loa trusts the answer's ``expires_in`` and stores whatever refresh token comes
back, under the rules of ``loa.channels.credentials`` (one refresh at a time across replicas,
marked before, persisted before use). A refused refresh (``{"error": "invalid_grant", …}``,
…/doc/oauth-error-handling) needs a person to connect the account again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import Account, AuthError, TransientError
from loa.channels.credentials import stored_value
from loa.channels.http import retryable
from loa.tls import client_context

ACCESS = "access_token"
REFRESH = "refresh_token"
EXPIRES = "access_expires_at"
REFRESH_EXPIRES = "refresh_expires_at"
TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a path, not a secret
REFRESH_AHEAD = timedelta(minutes=5)
RENEW_WITHIN = timedelta(days=90)
"""A refresh token this close to its expiry is renewed by the daily account check (half the 180
days of TikTok's newer page; a refresh issues a new one with a whole life)."""
ACCESS_LIFE = timedelta(hours=24)
"""When an answer lacks ``expires_in`` (it never should)."""


def pair_from(answer: Mapping[str, Any]) -> dict[str, str]:
    """The credentials to store from a token answer (a refresh, or a code exchange)."""
    now = datetime.now(UTC)
    access_life = timedelta(seconds=int(answer.get("expires_in") or ACCESS_LIFE.total_seconds()))
    stored = {
        ACCESS: str(answer[ACCESS]),
        REFRESH: str(answer[REFRESH]),
        EXPIRES: (now + access_life).isoformat(),
    }
    if answer.get("refresh_expires_in"):
        stored[REFRESH_EXPIRES] = (now + timedelta(seconds=int(answer["refresh_expires_in"]))).isoformat()
    return stored


def renewal_due(account: Account) -> bool:
    """Whether the stored refresh token expires within ``RENEW_WITHIN`` (unknown: not due)."""
    expires = stored_value(account, REFRESH_EXPIRES)
    return bool(expires) and datetime.fromisoformat(expires) - RENEW_WITHIN < datetime.now(UTC)


class TikTokRotation:
    """TikTok's side of the rotation (``loa.channels.credentials.Rotation``); the rules and the calls
    are ``RotatingCredentials``'."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.url = base_url.rstrip("/") + TOKEN_PATH
        self.timeout = timeout

    def access_token(self, account: Account) -> str | None:
        return stored_value(account, ACCESS) or None

    def fresh(self, account: Account) -> bool:
        """An unknown expiry counts as fresh: TikTok's ``access_token_invalid`` says when it is not."""
        if not stored_value(account, ACCESS):
            return False
        expires = stored_value(account, EXPIRES)
        return not expires or datetime.fromisoformat(expires) - REFRESH_AHEAD > datetime.now(UTC)

    def credentials_from(self, answer: Mapping[str, Any]) -> dict[str, str]:
        return pair_from(answer)

    async def exchange(self, account: Account) -> dict[str, Any]:
        form = {
            "client_key": account.secret("client_key"),
            "client_secret": account.secret("client_secret"),
            "grant_type": "refresh_token",
            "refresh_token": account.secret(REFRESH),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=client_context()) as http:
                response = await http.post(self.url, data=form)
        except httpx.TransportError as e:
            raise TransientError(f"TikTok token endpoint unreachable: {type(e).__name__}") from e
        if retryable(response.status_code):
            raise TransientError(
                f"TikTok token endpoint answered {response.status_code}", code=response.status_code
            )
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or ACCESS not in body or REFRESH not in body:
            # TikTok may answer an OAuth error with 200 and {"error", "error_description", "log_id"}
            raise AuthError(
                f"TikTok refused the refresh token of account {account.name} "
                f"({body.get('error', response.status_code)}: {body.get('error_description', '')}); "
                "a person must connect the account again",
                code=str(body.get("error") or response.status_code),
            )
        return body

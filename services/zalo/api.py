"""Zalo's HTTP calls (httpx) and its error codes mapped onto Loa's errors.

Zalo answers HTTP 200 with ``{"error": <int>, "message": ...}``; only ``error == 0`` is success.
Codes (see README for sources and which are unconfirmed): -216 invalid access token and -124
expired access token → refresh once, then ``AuthError``; -32 rate/quota, -214 still processing
and HTTP 5xx → ``TransientError``; other negative codes (e.g. -201 invalid parameter) →
``PermanentError`` with Zalo's code and message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import AuthError, ChannelError, PermanentError, TransientError

TOKEN_ERRORS = frozenset({-216, -124})
TRANSIENT_ERRORS = frozenset({-32, -214, -100})
RATE_LIMIT_ERROR = -32
RATE_LIMIT_WAIT = timedelta(seconds=60)
"""Zalo's -32 carries no reset time; retry after a minute (its app limits are per minute and per
day; a spent daily quota just fails again and waits again)."""


class TokenRejectedError(AuthError):
    """The access token was refused: refresh once and try again."""


def to_error(code: int, message: str, excerpt: str) -> ChannelError:
    text = f"Zalo error {code}: {message}"
    if code in TOKEN_ERRORS:
        return TokenRejectedError(text, code=code, excerpt=excerpt)
    if code == RATE_LIMIT_ERROR:
        return TransientError(text, code=code, excerpt=excerpt, retry_at=datetime.now(UTC) + RATE_LIMIT_WAIT)
    if code in TRANSIENT_ERRORS:
        return TransientError(text, code=code, excerpt=excerpt)
    return PermanentError(text, code=code, excerpt=excerpt)


def unwrap(response: httpx.Response) -> dict[str, Any]:
    """The ``data`` of a successful answer; any other answer raises the matching Loa error."""
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(
            f"Zalo answered HTTP {response.status_code}",
            code=response.status_code,
            excerpt=response.text[:2000],
        )
    try:
        body = response.json()
    except ValueError as e:
        raise TransientError("Zalo answered something that is not JSON", excerpt=response.text[:2000]) from e
    code = int(body.get("error", 0))
    if code != 0:
        raise to_error(code, str(body.get("message") or body.get("error_name") or ""), response.text[:2000])
    data = body.get("data", body)
    return data if isinstance(data, dict) else {"value": data}


class ZaloApi:
    """The OpenAPI calls Loa makes, each with the OA's access token in the header."""

    def __init__(self, http: httpx.AsyncClient, openapi_url: str) -> None:
        self.http = http
        self.base = openapi_url.rstrip("/")

    async def call(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"access_token": token, **kwargs.pop("headers", {})}
        try:
            response = await self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        except httpx.TransportError as e:
            raise TransientError(f"Zalo unreachable: {type(e).__name__}") from e
        return unwrap(response)

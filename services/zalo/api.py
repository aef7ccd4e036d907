"""Zalo's HTTP calls (httpx) and its error codes mapped onto Loa's errors.

Zalo answers HTTP 200 with ``{"error": <int>, "message": ...}``; only ``error == 0`` is success.
``CODES`` below is the whole mapping, one row per code with where it comes from; an HTTP status
that may pass later (``loa.channels.http.retryable``: 5xx, 429...) and network failures are
transient; any code not in the table is permanent with Zalo's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx

from loa.channels import Account, AuthError, ChannelError, PermanentError, TransientError
from loa.channels.clients import ClientPerAccount
from loa.channels.http import retryable
from loa.channels.in_doubt import transport_error

OA_ERRORS = "Zalo OA API error table (developers.zalo.me, Official Account: Phụ lục, Mã lỗi)"
PUBLIC_CLIENTS = "public clients' readings (unconfirmed, see README)"
RATE_LIMIT_WAIT = timedelta(seconds=60)
"""Zalo's -32 carries no reset time; retry after a minute (its app limits are per minute and per
day; a spent daily quota just fails again and waits again)."""
QUOTA_DAY = ZoneInfo("Asia/Ho_Chi_Minh")
"""-211 "out of quota" names no reset time; OA message quotas are daily, counted in Vietnam's day."""


@dataclass(frozen=True)
class Rule:
    outcome: Literal["token", "account", "transient", "quota", "permanent"]
    meaning: str
    source: str
    wait: timedelta | None = None
    """How long to wait when Zalo names no reset time (None: the runtime's backoff)."""


CODES: dict[int, Rule] = {
    # The access token: refresh once, then park the account.
    -216: Rule("token", "access token invalid", OA_ERRORS),
    -220: Rule("token", "access token expired or removed", OA_ERRORS),
    -124: Rule("token", "access token expired", PUBLIC_CLIENTS),
    # The OA or the app as a whole: every content of the account would fail the same way.
    -204: Rule("account", "the OA has been deleted", OA_ERRORS),
    -209: Rule("account", "the app is not linked to the OA for this API", OA_ERRORS),
    -212: Rule("account", "the OA has not registered this API", OA_ERRORS),
    -219: Rule("account", "the app has been removed or deactivated", OA_ERRORS),
    -221: Rule("account", "the OA is not verified", OA_ERRORS),
    -223: Rule("account", "the OA has not been granted this feature", OA_ERRORS),
    -224: Rule("account", "the OA's service package does not allow this (not bought or expired)", OA_ERRORS),
    # Wait and try again.
    -211: Rule("quota", "out of quota", OA_ERRORS),
    -214: Rule("transient", "article still processing", PUBLIC_CLIENTS),
    -32: Rule("transient", "request rate limit", PUBLIC_CLIENTS, wait=RATE_LIMIT_WAIT),
    -100: Rule("transient", "unknown error, try again later", PUBLIC_CLIENTS),
}


class TokenRejectedError(AuthError):
    """The access token was refused: refresh once and try again."""


def next_quota_day(now: datetime | None = None) -> datetime:
    """Midnight of the next day in Vietnam, when daily quotas start again."""
    local = (now or datetime.now(UTC)).astimezone(QUOTA_DAY)
    return datetime.combine(local.date() + timedelta(days=1), time(), QUOTA_DAY).astimezone(UTC)


def to_error(code: int, message: str, excerpt: str) -> ChannelError:
    """One row of ``CODES`` → Loa's error, keeping Zalo's code and message."""
    text = f"Zalo error {code}: {message}"
    rule = CODES.get(code)
    if rule is None:
        return PermanentError(text, code=code, excerpt=excerpt)
    if rule.outcome == "token":
        return TokenRejectedError(text, code=code, excerpt=excerpt)
    if rule.outcome == "account":
        reason = f"{text} ({rule.meaning}): a person must act in the OA's or the app's settings"
        return AuthError(reason, code=code, excerpt=excerpt)
    if rule.outcome == "quota":
        return TransientError(text, code=code, excerpt=excerpt, retry_at=next_quota_day())
    retry_at = datetime.now(UTC) + rule.wait if rule.wait is not None else None
    return TransientError(text, code=code, excerpt=excerpt, retry_at=retry_at)


def unwrap(response: httpx.Response) -> dict[str, Any]:
    """The ``data`` of a successful answer; any other answer raises the matching Loa error."""
    if retryable(response.status_code):
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


CREATING_PATHS = frozenset({"/v2.0/article/create"})
"""The call that makes a post. A lost ``preparevideo`` answer leaves no article (``find_existing``
finds none without a saved ``video_id``); a lost ``oa/message`` broadcast cannot be looked up (the
OpenAPI lists no broadcasts), so ``find_existing`` would answer for the article alone."""


class ZaloApi:
    """The OpenAPI calls Loa makes, each with the OA's access token in the header, over the OA's
    own connections (``loa.channels.clients``)."""

    def __init__(self, http: ClientPerAccount, openapi_url: str) -> None:
        self.http = http
        self.base = openapi_url.rstrip("/")

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self, account: Account, method: str, path: str, token: str, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {"access_token": token, **kwargs.pop("headers", {})}
        http = self.http(account)
        try:
            response = await http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        except httpx.TransportError as e:
            raise transport_error(
                f"Zalo unreachable: {type(e).__name__}", e, creates=path in CREATING_PATHS
            ) from e
        return unwrap(response)

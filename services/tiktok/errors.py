"""TikTok's answers mapped onto Loa's three errors, keeping TikTok's code, message and ``log_id``.

Every v2 answer carries ``{"error": {"code", "message", "log_id"}}``, ``code`` being ``"ok"`` on
success (developers.tiktok.com/doc/tiktok-api-v2-error-handling: access_token_invalid 401,
internal_error 500, invalid_file_upload 400, invalid_params 400, rate_limit_exceeded 429,
scope_not_authorized 401, scope_permission_missed 401). The Direct Post reference
(developers.tiktok.com/doc/content-posting-api-reference-direct-post) adds the codes of
``video/init/``: invalid_param (400), spam_risk_too_many_posts, spam_risk_user_banned_from_posting,
reached_active_user_cap, unaudited_client_can_only_post_to_private_accounts,
url_ownership_unverified, privacy_level_option_mismatch (403). The rest goes to ``loa.channels.http``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from loa.channels import AuthError, ChannelError, PermanentError, TransientError
from loa.channels.http import UNAUTHORIZED_ONLY, http_error, retry_at

OK = "ok"
TOKEN_INVALID = "access_token_invalid"  # noqa: S105 - an error code
"""The access token expired or was revoked: refresh once, then a person must act."""
NEEDS_A_PERSON = {
    "scope_not_authorized": "the creator did not grant the scope video.publish",
    "scope_permission_missed": "the token lacks a scope this call needs",
    "spam_risk_user_banned_from_posting": "TikTok bans this creator from posting",
    "unaudited_client_can_only_post_to_private_accounts": (
        "the app is not audited by TikTok: it may post only to private accounts (privacy SELF_ONLY)"
    ),
}
"""Account-wide refusals no retry fixes: the account is parked until a person acts."""
RATE_LIMITED = "rate_limit_exceeded"
RATE_WINDOW = timedelta(minutes=1)
"""TikTok's limits are per user token per minute (6 inits, 20 creator_info queries, 30 status
fetches) and its 429 names no reset time: the window's length is the wait."""
DAILY_CAPS = {
    "spam_risk_too_many_posts": "the creator reached TikTok's daily cap of posts through the API",
    "spam_risk_too_many_pending_share": "the creator has too many posts waiting in the TikTok inbox",
    "reached_active_user_cap": "the app reached TikTok's daily quota of active posting users",
}
DAILY_CAP_WAIT = timedelta(hours=1)
"""TikTok names no reset time for its daily caps; an hourly retry finds the first free slot."""
SERVER_ERROR = "internal_error"


def envelope(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it has none (an upload host, a proxy's page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_code(body: dict[str, Any]) -> str:
    error = body.get("error")
    return str(error.get("code", OK)) if isinstance(error, dict) else OK


def check(response: httpx.Response, what: str) -> dict[str, Any]:
    """``data`` of an answer whose status is 2xx and whose ``error.code`` is ``ok``; else the error."""
    body = envelope(response)
    if response.is_success and error_code(body) == OK:
        data = body.get("data")
        return data if isinstance(data, dict) else {}
    raise to_error(response, what)


class TokenRejectedError(AuthError):
    """``access_token_invalid``: refresh the token once and try again."""


def to_error(response: httpx.Response, what: str) -> ChannelError:
    body = envelope(response)
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or response.status_code)
    log_id = error.get("log_id")
    status = response.status_code
    message = f"TikTok {what}: HTTP {status} {code}: {error.get('message') or response.reason_phrase}"
    if log_id:
        message += f" (log_id {log_id})"
    excerpt = response.text[:2000]
    if code == TOKEN_INVALID:
        return TokenRejectedError(message, code=code, excerpt=excerpt)
    if code in NEEDS_A_PERSON:
        return AuthError(f"{message}; {NEEDS_A_PERSON[code]}", code=code, excerpt=excerpt)
    now = datetime.now(UTC)
    if code == RATE_LIMITED or status == 429:
        wait = retry_at(response.headers) or now + RATE_WINDOW
        return TransientError(message, code=code, excerpt=excerpt, retry_at=wait)
    if code in DAILY_CAPS:
        return TransientError(
            f"{message}; {DAILY_CAPS[code]}", code=code, excerpt=excerpt, retry_at=now + DAILY_CAP_WAIT
        )
    if code == SERVER_ERROR:
        return TransientError(message, code=code, excerpt=excerpt, retry_at=retry_at(response.headers))
    if status < 400:  # 2xx with an error code TikTok has not documented: this request will not go
        return PermanentError(message, code=code, excerpt=excerpt)
    # A 403 is a request TikTok will not do (privacy_level_option_mismatch, url_ownership_unverified):
    # the post's problem; the account-wide ones are named above.
    return http_error(
        status,
        message,
        code=code,
        excerpt=excerpt,
        retry_at=retry_at(response.headers),
        auth_statuses=UNAUTHORIZED_ONLY,
    )

"""X's answers mapped onto Loa's three errors, keeping X's problem JSON (title, detail, type).

Sources: docs.x.com/x-api/fundamentals/response-codes-and-errors (401 → credentials; 429 with
``x-rate-limit-reset``; 5xx); the 403 duplicate-content detail as X sends it (akrherz/iembot#163).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from loa.channels import ChannelError, DuplicatePostError
from loa.channels.http import UNAUTHORIZED_ONLY, http_error, reset_at

if TYPE_CHECKING:
    import requests

DUPLICATE_DETAIL = "duplicate content"


def _problem(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:500]}
    return body if isinstance(body, dict) else {"detail": str(body)[:500]}


def reset_time(response: requests.Response, header: str = "x-rate-limit-reset") -> datetime | None:
    return reset_at(response.headers, header)


def check(response: requests.Response) -> dict[str, Any]:
    """The JSON body of a 2xx answer; any other answer raises the matching Loa error."""
    if 200 <= response.status_code < 300:
        return response.json() if response.content else {}
    raise to_error(response)


def to_error(response: requests.Response) -> ChannelError:
    problem = _problem(response)
    status = response.status_code
    title = str(problem.get("title", response.reason))
    detail = str(problem.get("detail", ""))
    message = f"X answered {status} {title}: {detail}".strip(": ")
    excerpt = response.text[:4000]
    if status == 403 and DUPLICATE_DETAIL in detail:
        return DuplicatePostError(message, code=403, excerpt=excerpt)
    code = problem.get("type") if problem.get("type") not in (None, "about:blank") else status
    # 401 is the credentials; a 403 is a request X will not do (this post's problem, not the account's).
    return http_error(
        status,
        message,
        code=code,
        excerpt=excerpt,
        retry_at=_window_reset(response),
        auth_statuses=UNAUTHORIZED_ONLY,
    )


def _window_reset(response: requests.Response) -> datetime | None:
    """When a 429's window opens again; every answer carries the window's reset, so only a 429's counts."""
    if response.status_code != 429:
        return None
    retry_at = reset_time(response)
    if response.headers.get("x-user-limit-24hour-remaining") == "0":
        retry_at = reset_time(response, "x-user-limit-24hour-reset") or retry_at
    return retry_at

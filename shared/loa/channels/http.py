"""What an HTTP answer means to Loa, the same for every channel: its status as one of our three
errors, and when the platform says to come back (``Retry-After``, a rate-limit reset).

Each adapter first applies what only its platform says (Graph's error codes, YouTube's reasons,
X's duplicate 403, WordPress's auth codes), then hands the rest to ``http_error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from loa.channels.errors import AuthError, ChannelError, PermanentError, TransientError

RETRY_STATUSES = frozenset({408, 425, 429})
"""Request Timeout, Too Early, Too Many Requests: the same request may succeed later (RFC 9110
§15.5.9, RFC 8470 §5.2, RFC 6585 §4); so may any 5xx."""
AUTH_STATUSES = frozenset({401, 403})
"""The credentials were refused or lack a permission: a person must act."""
UNAUTHORIZED_ONLY = frozenset({401})
"""For a platform that answers 403 to a request it will not do, not only to the credentials
(X: a duplicate, a reply it does not allow; YouTube: its reason says which): there a 403 is the
post's problem unless the adapter's own table says otherwise."""
WAIT_MAX = timedelta(days=36_500)
"""A platform's wait is believed as it says, up to a hundred years: a longer one is a broken
header, and capping it keeps ``now + wait`` within what a ``datetime`` holds (no OverflowError)."""


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value whatever the case of its name (a plain dict of headers keeps the case
    the server sent; httplib2 lowers it)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return None if value is None else str(value).strip()


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, at most ``WAIT_MAX``; None if absent or not valid.

    RFC 9110 §10.2.3: ``Retry-After = HTTP-date / delay-seconds``, delay-seconds being
    ``1*DIGIT`` (so no sign, no fraction). An HTTP-date in the past means no wait (0); HTTP-dates
    are always GMT (§5.6.7), so one parsed without a zone is read as UTC.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), WAIT_MAX.total_seconds())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(wait, 0.0), WAIT_MAX.total_seconds())


def retry_at(headers: Mapping[str, str] | None, now: datetime | None = None) -> datetime | None:
    """The time ``Retry-After`` in ``headers`` names, or None when there is none (or it is not valid)."""
    now = now or datetime.now(UTC)
    seconds = retry_after(header(headers, "Retry-After"), now)
    return None if seconds is None else now + timedelta(seconds=seconds)


def reset_at(headers: Mapping[str, str] | None, name: str, now: datetime | None = None) -> datetime | None:
    """A rate-limit reset header in epoch seconds (X's ``x-rate-limit-reset``, the common
    ``X-RateLimit-Reset``), at most ``WAIT_MAX`` ahead; None when absent or not a number."""
    value = header(headers, name)
    if not value or not (value.isascii() and value.isdigit()):
        return None
    latest = (now or datetime.now(UTC)) + WAIT_MAX
    if int(value) >= latest.timestamp():
        return latest
    return datetime.fromtimestamp(int(value), UTC)


def retryable(status: int | None) -> bool:
    """Whether an answer with this status (None: no answer at all) may succeed if sent again later."""
    return status is None or status >= 500 or status in RETRY_STATUSES


def error_class(status: int | None, auth_statuses: frozenset[int] = AUTH_STATUSES) -> type[ChannelError]:
    """Our class for a failed answer: transient (5xx, 408, 425, 429, no answer), auth
    (``auth_statuses``), permanent (any other refusal)."""
    if retryable(status):
        return TransientError
    if status in auth_statuses:
        return AuthError
    return PermanentError


def http_error(
    status: int,
    message: str,
    *,
    code: str | int | None = None,
    excerpt: str | None = None,
    retry_at: datetime | None = None,
    auth_statuses: frozenset[int] = AUTH_STATUSES,
) -> ChannelError:
    """The error for a failed answer (see ``error_class``); ``code`` defaults to the status and
    ``retry_at`` is kept on a transient one only."""
    kind = error_class(status, auth_statuses)
    code = status if code is None else code
    if kind is TransientError:
        return TransientError(message, code=code, excerpt=excerpt, retry_at=retry_at)
    return kind(message, code=code, excerpt=excerpt)

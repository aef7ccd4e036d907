"""The three errors every adapter maps its platform's errors onto.

Raise them ``from`` the SDK's exception and keep the platform's own code and message:
they end up in the delivery record ops read.
"""

from __future__ import annotations

from datetime import datetime

from loa.media import missing_object


class ChannelError(Exception):
    """Base of adapter errors: the platform's code, message and a bounded excerpt of its answer."""

    error_class = "permanent"

    def __init__(self, message: str, *, code: str | int | None = None, excerpt: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = None if code is None else str(code)
        self.excerpt = None if excerpt is None else excerpt[:4000]


class AuthError(ChannelError):
    """A human must act (token expired, permission missing): the account is parked."""

    error_class = "auth"


class TransientError(ChannelError):
    """Retry later (5xx, timeout, rate limit); ``retry_at`` is the platform's reset time if known.

    ``in_doubt``: the request may have reached the platform (a timeout after it was sent): the
    runtime asks ``find_existing`` before it sends the post again, as after a crash.
    """

    error_class = "transient"

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        excerpt: str | None = None,
        retry_at: datetime | None = None,
        in_doubt: bool = False,
    ):
        super().__init__(message, code=code, excerpt=excerpt)
        self.retry_at = retry_at
        self.in_doubt = in_doubt


class PermanentError(ChannelError):
    """This post can never go as it is (too long, bad media, refused by the platform)."""

    error_class = "permanent"


class DuplicatePostError(PermanentError):
    """The platform refused the post as a duplicate: the runtime asks ``find_existing`` whether it is ours."""


class UnsupportedError(PermanentError):
    """The channel cannot do this (e.g. edit a post on X)."""


class LimitError(PermanentError):
    """The rendered post breaks a declared limit of the channel (field and reason in the message)."""


def media_missing(error: BaseException) -> PermanentError | None:
    """A missing media object as a permanent error, or None (an outage of the store stays transient).

    The object is content-addressed and was checked when submitted: if it is not there now, waiting
    will not bring it back. Ops can upload it and retry the delivery.
    """
    key = missing_object(error)
    if key is None:
        return None
    return PermanentError(
        f"media {key} is not in the media store; upload it, then retry the delivery",
        code="media_not_found",
    )

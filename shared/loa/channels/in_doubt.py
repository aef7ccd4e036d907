"""Whether a failed call may have reached the platform: the one rule every adapter's transport
errors go through, so a retry asks ``find_existing`` before it publishes again.

A request that went out and got no answer (a read or write timed out, the connection dropped
after it was sent) may have made the post; one that never left (a connect timeout, a refused
connection, an unknown host) made nothing. Only a call that creates something is in doubt: a read,
an edit or a delete sent twice does no harm. The runtime acts on ``in_doubt`` for a first publish
(``loa.publisher.recovery.Recovery.sent_maybe``).
"""

from __future__ import annotations

import http.client
import smtplib
import sys
import traceback
from types import ModuleType
from typing import TYPE_CHECKING

import httpx
from urllib3.exceptions import MaxRetryError, ProtocolError

from loa.channels.errors import TransientError

if TYPE_CHECKING:
    import requests

CREATING_METHODS = frozenset({"POST", "PUT"})
"""Calls that may create something: a POST makes a post, a resumable upload's last PUT (YouTube,
TikTok) completes the video the platform then publishes. PATCH and DELETE edit or remove what is
there; GET reads (RFC 9110 §9.2.2: PUT and DELETE are idempotent, but a PUT of an upload's last
chunk is the step that publishes)."""

HTTPX_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
"""httpx's errors after the request began to go out (httpx docs, "Exceptions": ``ConnectTimeout``,
``PoolTimeout`` and ``ConnectError`` come before any byte is sent)."""

SOCKET_SENT = (
    TimeoutError,
    ConnectionResetError,
    BrokenPipeError,
    http.client.RemoteDisconnected,
    smtplib.SMTPServerDisconnected,
)
"""Socket-level failures (httplib2, smtplib): sent unless they happened while connecting."""

CONNECTING_FRAMES = frozenset({"connect", "create_connection", "_get_socket"})
"""The functions that open a connection: ``socket.create_connection``, ``http.client.HTTPConnection
.connect``, httplib2's ``HTTPConnectionWithTimeout.connect`` and smtplib's ``SMTP.connect`` /
``_get_socket``. httplib2 and smtplib raise the same ``socket.timeout`` whether connecting or
waiting for the answer (httplib2/__init__.py ``Http._conn_request``), so where it was raised says
which."""


def raised_within(error: BaseException, functions: frozenset[str]) -> bool:
    """The error was raised inside one of ``functions`` (by name, anywhere in its traceback)."""
    return any(frame.name in functions for frame in traceback.extract_tb(error.__traceback__))


def _requests_sent(error: requests.RequestException, lib: ModuleType) -> bool:
    if isinstance(error, lib.ConnectTimeout):  # a ConnectionError and a Timeout: nothing sent
        return False
    if isinstance(error, lib.ReadTimeout | lib.exceptions.ChunkedEncodingError):
        return True
    if isinstance(error, lib.ConnectionError):
        cause = error.args[0] if error.args else None
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        # urllib3 wraps a connection dropped before the answer as ProtocolError("Connection
        # aborted.", RemoteDisconnected/ConnectionResetError); a failed connect is NewConnectionError.
        return isinstance(cause, ProtocolError)
    return False


def request_sent(error: BaseException) -> bool:
    """The request may have reached the platform: it went out and no answer came back."""
    if isinstance(error, httpx.TransportError):
        return isinstance(error, HTTPX_SENT)
    # ``requests`` (the Facebook and X SDKs' HTTP client) is not imported here: a process that never
    # loaded it (webhook, Zalo, e-mail: ~3 MB resident, bench/rss.py) cannot have raised its errors.
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(error, requests.RequestException):
        return _requests_sent(error, requests)
    if isinstance(error, SOCKET_SENT):
        return not raised_within(error, CONNECTING_FRAMES)
    return False


def transport_error(
    message: str, error: BaseException, *, creates: bool, code: str | None = None
) -> TransientError:
    """A failed call as a transient error, in doubt if it creates something and may have been sent."""
    return TransientError(message, code=code, in_doubt=creates and request_sent(error))


def creates(method: str | None) -> bool:
    """An HTTP method whose call may create something (``CREATING_METHODS``)."""
    return (method or "GET").upper() in CREATING_METHODS

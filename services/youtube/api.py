"""The google-api-python-client service, its transport, and the mapping of its errors onto ours.

Built offline from the SDK's bundled discovery document (``static_discovery=True``) with
``api_endpoint`` at the configured root. The SDK keeps ``https`` for upload URLs, so the transport
is an ``httplib2.Http`` trusting the configured CA, with 308 removed from its redirect codes (as
``googleapiclient.http.build_http`` does) so "308 Resume Incomplete" is not taken for a redirect.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from loa.channels import Account, AuthError, ChannelError, TransientError
from loa.channels.http import UNAUTHORIZED_ONLY, http_error, retry_at
from loa.channels.in_doubt import transport_error
from loa.logging import redact
from services.youtube.quota import QuotaTracker
from services.youtube.settings import SCOPES, YouTubeSettings

QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "uploadRateLimitExceeded", "backendError"}
AUTH_REASONS = {"authError", "unauthorized", "forbidden", "insufficientPermissions", "accountClosed"}
RETRY_DEFAULT = timedelta(seconds=60)


STALE_CONNECTION_ERRORS = (
    ConnectionResetError,
    BrokenPipeError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    http.client.RemoteDisconnected,
)
"""What a request on a keep-alive connection the server has closed fails with, before any answer."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
"""Safe to send twice (RFC 9110 §9.2.2): the only ones tried again after such an error."""


class KeepAliveHttp(httplib2.Http):  # type: ignore[misc]
    """An ``httplib2.Http`` that never sends a request on a connection closed while it sat idle.

    httplib2 reuses its connection and only reconnects after a ``BadStatusLine``
    (httplib2/__init__.py ``Http._conn_request``); a server or proxy that closed the idle connection
    without TLS close_notify makes the next request fail with ``SSLEOFError`` (issue #25: 18
    YouTube attempts lost that way). Before each request, a pooled connection whose socket is
    readable (an idle HTTP/1.1 connection has nothing to read unless the peer closed it) is
    dropped: the check urllib3 makes before reusing one (urllib3/util/connection.py
    ``is_connection_dropped``). Should the server close it in the instant between that check and
    the request, an idempotent request is sent once more on a new connection; a POST or a PUT is
    not (it may have been processed): its error goes to the runtime as transient.
    """

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        reused = self._drop_closed_connections()
        try:
            return super().request(uri, method, *args, **kwargs)
        except STALE_CONNECTION_ERRORS:
            if not reused or method.upper() not in IDEMPOTENT_METHODS:
                raise
            self.close()
            return super().request(uri, method, *args, **kwargs)

    def _drop_closed_connections(self) -> bool:
        """Close pooled connections the server has closed; whether an open one is left to reuse."""
        reused = False
        for conn in self.connections.values():
            sock = getattr(conn, "sock", None)
            if sock is None:
                continue
            if _peer_closed(sock):
                conn.close()
            else:
                reused = True
        return reused


def _peer_closed(sock: socket.socket) -> bool:
    """An idle connection's socket is readable only if the peer closed it (FIN, close_notify, RST)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def new_http(settings: YouTubeSettings) -> httplib2.Http:
    http = KeepAliveHttp(timeout=settings.youtube_timeout_s, ca_certs=settings.ca_certs())
    http.redirect_codes = http.redirect_codes - {308}
    return http


def build_service(settings: YouTubeSettings) -> Any:
    """The ``youtube`` v3 resource, without credentials: every call passes its own authorised http."""
    service = build(
        "youtube",
        "v3",
        http=new_http(settings),
        static_discovery=True,
        client_options={"api_endpoint": settings.youtube_api_url.rstrip("/")},
        cache_discovery=False,
    )
    return ResourcesBuiltOnce(service)


class ResourcesBuiltOnce:
    """The service with each resource (``videos()``, ``thumbnails()``...) built at its first use only.

    The SDK builds a resource anew at every call of its accessor: each of its methods from the
    discovery document, with their docstrings (``googleapiclient/discovery.py``,
    ``createResourceMethod``), 1.0-1.4 ms of CPU a call, several calls a delivery. A resource holds
    no per-request state: a request is an ``HttpRequest`` of its own, sent on the ``http`` its caller
    passes (``execute(http=...)``), so one resource serves every thread."""

    def __init__(self, service: Any) -> None:
        self._service = service
        self._names = frozenset(service._resourceDesc.get("resources", {}))  # the discovery document's
        self._resources: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        accessor = getattr(self._service, name)
        if name not in self._names:
            return accessor  # a method of the service itself (a batch, close...)

        def built_once() -> Any:
            if name not in self._resources:
                self._resources[name] = accessor()
            return self._resources[name]

        return built_once


def credentials_for(account: Account, settings: YouTubeSettings) -> Credentials:
    return Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=account.secret("refresh_token"),
        client_id=account.secret("client_id"),
        client_secret=account.secret("client_secret"),
        token_uri=settings.youtube_token_url,
        scopes=SCOPES,
    )


class HttpPool:
    """Transports lent out one operation at a time: an ``httplib2.Http`` is not thread-safe, but it
    keeps its connection open, so the next operation skips the TCP and TLS handshakes (a fresh
    transport per operation paid both, and loaded the CA bundle again, on every call)."""

    def __init__(self, settings: YouTubeSettings) -> None:
        self._settings = settings
        self._idle: list[httplib2.Http] = []
        self._lock = threading.Lock()

    @contextmanager
    def authorized(self, credentials: Credentials) -> Iterator[AuthorizedHttp]:
        """An idle transport (or a new one) with ``credentials``, back in the pool after a clean exit.

        After an error or a cancellation it is dropped: a cancelled task's worker thread may still
        be using it.
        """
        with self._lock:
            http = self._idle.pop() if self._idle else None
        if http is None:
            http = new_http(self._settings)
        yield AuthorizedHttp(credentials, http=http)
        with self._lock:
            self._idle.append(http)


def error_reason(err: HttpError) -> tuple[str, str]:
    """(reason, message) from a Google API error body; reason falls back to the HTTP status."""
    try:
        body = json.loads(err.content.decode("utf-8") if isinstance(err.content, bytes) else err.content)
        error = body["error"]
        if isinstance(error, str):  # OAuth shape: {"error": "invalid_grant", ...}
            return error, str(body.get("error_description", error))
        first = (error.get("errors") or [{}])[0]
        return str(first.get("reason") or error.get("status") or err.status_code), str(
            error.get("message", "")
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return str(err.status_code), ""


def map_error(exc: BaseException, method: str, quota: QuotaTracker, project: str) -> ChannelError:
    """Our error class for an SDK/transport failure; never carries a token or the session URI."""
    if isinstance(exc, ChannelError):
        return exc
    if isinstance(exc, RefreshError):
        # google-auth's message is "invalid_grant: Token has been expired or revoked." (no secret)
        return AuthError(
            f"YouTube token refresh failed: {redact(str(exc.args[0]))[:300]}", code="invalid_grant"
        )
    if isinstance(exc, HttpError):
        status = exc.status_code
        reason, message = error_reason(exc)
        text = f"YouTube {method}: {status} {reason}: {redact(message)[:500]}"
        excerpt = redact(exc.content.decode("utf-8", "replace") if isinstance(exc.content, bytes) else "")
        if reason in QUOTA_REASONS:
            quota.mark_exhausted(project, method)
            err = quota.exhausted(method, f"the platform answered {reason}", code=reason)
            err.excerpt = excerpt[:4000]
            return err
        if reason == "uploadLimitExceeded":
            # The channel's own upload cap; the platform says to try again later (next day).
            return quota.exhausted(method, "the channel's upload limit", code=reason)
        if reason in AUTH_REASONS:
            return AuthError(text, code=reason, excerpt=excerpt)
        if reason in RATE_REASONS:
            return TransientError(text, code=reason, excerpt=excerpt, retry_at=retry_at(exc.resp))
        # A 403's reason says whose problem it is (the ones above are the account's; others, this video's).
        return http_error(
            status,
            text,
            code=reason,
            excerpt=excerpt,
            retry_at=retry_at(exc.resp),
            auth_statuses=UNAUTHORIZED_ONLY,
        )
    if isinstance(exc, (TransportError, httplib2.HttpLib2Error, socket.timeout, ssl.SSLError, OSError)):
        # ``*.insert`` creates (videos.insert's session, chunks and last chunk); lists and edits do not.
        message = f"YouTube {method}: network error: {type(exc).__name__}: {redact(str(exc))[:300]}"
        return transport_error(message, exc, creates=method.endswith(".insert"))
    return TransientError(f"YouTube {method}: unexpected {type(exc).__name__}: {redact(str(exc))[:300]}")

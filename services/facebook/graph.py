"""The Graph API client: facebook-sdk's ``GraphAPI.request`` off the event loop, errors kept whole.

facebook-sdk 3.1.0 only knows Graph versions up to 3.1 and joins the module constant
``facebook.FACEBOOK_GRAPH_URL`` with the request path, so every call passes the configured version
in the path; the constant is left alone and each call's session carries a rewriting transport
(``loa.channels.transport``) that sends ``https://graph.facebook.com/`` to the configured base URL,
so two base URLs can live in one process.

The SDK puts the token in the query string of GET/DELETE requests; here the SDK gets no token at
all and the session sends ``Authorization: OAuth <token>`` instead (the form Meta's resumable upload
guide uses), so no URL, log line or exception ever carries it.

The SDK's ``GraphAPIError`` keeps only ``code``, ``type`` and ``message``; its ``result`` holds the
raw answer, from which ``error_subcode`` and ``fbtrace_id`` are read. It also ignores the HTTP status
and the usage headers, so a response hook keeps the last response of each call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, cast

import facebook
import httpx
import requests

from loa.channels import AuthError, ChannelError, DuplicatePostError, PermanentError, TransientError
from loa.channels.threads import in_thread
from loa.channels.transport import RewritingAdapter
from loa.logging import redact

SDK_DEFAULT_URL = "https://graph.facebook.com/"

# Error codes and what to do about them, from "Handling Errors" in the Graph API guides:
# https://developers.facebook.com/docs/graph-api/guides/error-handling
# 190 expired/invalid token (subcodes 458 app not installed, 459 checkpointed, 460 password changed,
# 463 expired, 464 unconfirmed user, 467 invalid token), 102 session, 104 no token: get a new token.
# 10 and 200-299: permission missing or removed. 1 unknown, 2 service: temporary, wait and retry.
# 4 app, 17 user, 32 page, 341 application limit, 613 call rate: throttling, wait and retry.
# 80001: the Pages business-use-case rate limit (https://developers.facebook.com/docs/graph-api/overview/rate-limiting).
# 368 temporarily blocked for policy violations, 506 duplicate post, 100 invalid parameter,
# 1609005 link could not be scraped: this post cannot go as it is.
AUTH_CODES = frozenset({10, 102, 104, 190})
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80001})
DUPLICATE_CODE = 506
APP_USAGE_COOL_DOWN = timedelta(minutes=10)
"""Platform limits count calls in a rolling hour; at 100% usage wait this long before trying again."""


@dataclass(frozen=True)
class GraphFailure:
    """The platform's own error, whole: kept on the exception as ``.graph``."""

    status: int | None
    code: int | None
    subcode: int | None
    type: str
    message: str
    fbtrace_id: str | None
    data: dict[str, Any] | None = None
    """``error_data``: e.g. the offsets a resumable upload expects (see ``expected_offsets``)."""

    def describe(self) -> str:
        code = "?" if self.code is None else str(self.code)
        if self.subcode is not None:
            code += f"/{self.subcode}"
        trace = f" fbtrace_id={self.fbtrace_id}" if self.fbtrace_id else ""
        http = f"HTTP {self.status} " if self.status else ""
        return redact(f"Graph API {http}error {code} ({self.type or 'unknown type'}): {self.message}{trace}")


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name) or headers.get(name.lower())
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def retry_at_from(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """When to try again: ``estimated_time_to_regain_access`` (minutes) of ``X-Business-Use-Case-Usage``,
    a cool-down when ``X-App-Usage`` is at 100%, or ``Retry-After``; None when nothing says."""
    now = now or datetime.now(UTC)
    wait = timedelta()
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                minutes = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(minutes, int | float) and minutes > 0:
                    wait = max(wait, timedelta(minutes=minutes))
    app = _json_header(headers, "X-App-Usage")
    if isinstance(app, dict):
        usage = [v for v in app.values() if isinstance(v, int | float)]
        if usage and max(usage) >= 100:
            wait = max(wait, APP_USAGE_COOL_DOWN)
    retry_after = headers.get("Retry-After") or headers.get("retry-after")
    if retry_after and retry_after.strip().isdigit():
        wait = max(wait, timedelta(seconds=int(retry_after)))
    return now + wait if wait > timedelta() else None


def failure_of(status: int | None, body: Any) -> GraphFailure:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body if isinstance(body, str) else "no Graph error object in the answer"
        return GraphFailure(status, None, None, "", text[:500], None)

    def as_int(value: Any) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return GraphFailure(
        status=status,
        code=as_int(error.get("code")),
        subcode=as_int(error.get("error_subcode")),
        type=str(error.get("type", "")),
        message=str(error.get("message", "")),
        fbtrace_id=error.get("fbtrace_id"),
        data=error["error_data"] if isinstance(error.get("error_data"), dict) else None,
    )


UPLOAD_OFFSET_SUBCODES = frozenset({1363019, 1363037})
"""A resumable video upload out of step: the platform says in ``error_data`` which
``start_offset``/``end_offset`` it expects next. facebook-python-business-sdk's uploader resumes
from there (facebook_business/video_uploader.py, VideoUploadTransferRequestManager.send_request:
subcode 1363037, ``body['error']['error_data']['start_offset']``); Meta's resumable upload guide
(https://developers.facebook.com/docs/video-api/guides/publishing) says to send the chunk the
server asks for. 1363019 ("expected start_offset N, got M") carries the same ``error_data``."""


def expected_offsets(error: ChannelError) -> tuple[int, int] | None:
    """The (start, end) offsets a resumable upload must continue with, if the error names them."""
    failure = getattr(error, "graph", None)
    if not isinstance(failure, GraphFailure) or failure.subcode not in UPLOAD_OFFSET_SUBCODES:
        return None
    data = failure.data or {}
    try:
        return int(data["start_offset"]), int(data["end_offset"])
    except (KeyError, TypeError, ValueError):
        return None


def map_error(status: int | None, headers: Mapping[str, str], body: Any) -> ChannelError:
    """Graph's error object (or a bare HTTP failure) → Loa's auth / transient / permanent errors."""
    failure = failure_of(status, body)
    message, code = failure.describe(), failure.code
    excerpt = redact(json.dumps(body, ensure_ascii=False)[:4000]) if isinstance(body, dict) else None
    code_text = None if code is None else (f"{code}/{failure.subcode}" if failure.subcode else str(code))
    error: ChannelError
    if code in AUTH_CODES or (code is not None and 200 <= code <= 299):
        error = AuthError(message, code=code_text, excerpt=excerpt)
    elif code in TRANSIENT_CODES or (code is None and (status is None or status >= 500 or status == 429)):
        error = TransientError(message, code=code_text, excerpt=excerpt, retry_at=retry_at_from(headers))
    elif code == DUPLICATE_CODE:
        error = DuplicatePostError(message, code=code_text, excerpt=excerpt)
    elif code is None and status is not None and status >= 500:
        error = TransientError(message, code=code_text, excerpt=excerpt, retry_at=retry_at_from(headers))
    else:
        error = PermanentError(message, code=code_text, excerpt=excerpt)
    error.graph = failure  # type: ignore[union-attr]  # the platform's error, whole, for callers
    return error


class GraphClient:
    """One per adapter: facebook-sdk for the Graph calls, httpx for streamed video chunks."""

    def __init__(self, base_url: str, version: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.timeout = timeout
        self._pool = RewritingAdapter(
            SDK_DEFAULT_URL, self.base_url, timeout, pool_connections=4, pool_maxsize=16
        )
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0))

    def _session(self, token: str) -> tuple[requests.Session, dict[str, requests.Response]]:
        session = requests.Session()
        session.mount("http://", self._pool)
        session.mount("https://", self._pool)
        session.headers["Authorization"] = f"OAuth {token}"
        seen: dict[str, requests.Response] = {}

        def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            seen["response"] = response

        session.hooks["response"].append(keep)
        return session, seen

    def _request(
        self,
        token: str,
        path: str,
        args: dict[str, Any] | None,
        post_args: dict[str, Any] | None,
        files: dict[str, Any] | None,
        method: str | None,
    ) -> dict[str, Any]:
        session, seen = self._session(token)
        api = facebook.GraphAPI(timeout=self.timeout, session=session)
        try:
            result = api.request(f"{self.version}/{path}", args, post_args, files, method)
        except facebook.GraphAPIError as e:
            response = seen.get("response")
            status = response.status_code if response is not None else None
            headers = dict(response.headers) if response is not None else {}
            raise map_error(status, headers, e.result) from e
        except requests.RequestException as e:
            # The URL carries no token (it travels in a header); the message names only the failure.
            raise TransientError(f"Graph API unreachable ({type(e).__name__}) at {self.base_url}") from e
        response = seen.get("response")
        if response is not None and response.status_code >= 400:
            raise map_error(response.status_code, dict(response.headers), result)
        return result if isinstance(result, dict) else {"data": result}

    async def call(
        self,
        token: str,
        path: str,
        *,
        args: dict[str, Any] | None = None,
        post_args: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        method: str | None = None,
    ) -> dict[str, Any]:
        """``GraphAPI.request`` in a worker thread (the SDK is blocking); a safe point to cancel."""
        return await in_thread(self._request, token, path, args, post_args, files, method)

    def _transfer(
        self, token: str, page_id: str, session_id: str, start: int, chunk: IO[bytes], length: int
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{self.version}/{page_id}/videos"
        data = {"upload_phase": "transfer", "upload_session_id": session_id, "start_offset": str(start)}
        files = {
            "video_file_chunk": (
                "chunk",
                cast(IO[bytes], _Bounded(chunk, length)),
                "application/octet-stream",
            )
        }
        try:
            response = self._http.post(
                url, data=data, files=files, headers={"Authorization": f"OAuth {token}"}
            )
        except httpx.HTTPError as e:
            raise TransientError(f"Graph API unreachable ({type(e).__name__}) at {self.base_url}") from e
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            raise map_error(response.status_code, response.headers, body)
        return body if isinstance(body, dict) else {}

    async def transfer_chunk(
        self, token: str, page_id: str, session_id: str, start: int, chunk: IO[bytes], length: int
    ) -> dict[str, Any]:
        """One ``upload_phase=transfer`` call, streaming ``length`` bytes from ``chunk``.

        httpx, not facebook-sdk: requests builds a multipart body in memory, httpx streams a
        file-like object in 64 KiB reads.
        """
        return await in_thread(self._transfer, token, page_id, session_id, start, chunk, length)

    def close(self) -> None:
        self._http.close()
        self._pool.close()


class _Bounded:
    """A read-only file-like view of the next ``length`` bytes of a stream (no seek, no fileno)."""

    mode = "rb"

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream, self._left = stream, length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(n)
        self._left -= len(data)
        return data

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
from typing import IO, TYPE_CHECKING, Any, Literal, cast

import httpx

from loa.channels import AuthError, ChannelError, DuplicatePostError, PermanentError, TransientError
from loa.channels.http import header, retry_after, retryable
from loa.channels.in_doubt import creates, transport_error
from loa.channels.threads import in_thread
from loa.logging import redact
from loa.tls import client_context

if TYPE_CHECKING:
    import requests

    from loa.channels.transport import RewritingAdapter

SDK_DEFAULT_URL = "https://graph.facebook.com/"

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
    transient: bool = False
    """Graph's ``is_transient``: the platform itself says a retry may succeed."""

    def describe(self) -> str:
        code = "?" if self.code is None else str(self.code)
        if self.subcode is not None:
            code += f"/{self.subcode}"
        trace = f" fbtrace_id={self.fbtrace_id}" if self.fbtrace_id else ""
        http = f"HTTP {self.status} " if self.status else ""
        return redact(f"Graph API {http}error {code} ({self.type or 'unknown type'}): {self.message}{trace}")


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = header(headers, name)
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
    seconds = retry_after(header(headers, "Retry-After"), now)
    if seconds is not None:
        wait = max(wait, timedelta(seconds=seconds))
    return now + wait if wait > timedelta() else None


def usage_of(headers: Mapping[str, str]) -> float:
    """The highest share (0-100) of any limit ``X-App-Usage`` or ``X-Business-Use-Case-Usage`` reports
    (``call_count``, ``total_time``, ``total_cputime``: the rate-limiting page, RATE_PAGE below)."""
    shares: list[float] = []
    app = _json_header(headers, "X-App-Usage")
    if isinstance(app, dict):
        shares += [float(v) for v in app.values() if isinstance(v, int | float)]
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    shares += [
                        float(entry[k])
                        for k in ("call_count", "total_time", "total_cputime")
                        if isinstance(entry.get(k), int | float)
                    ]
    return max(shares, default=0.0)


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
        transient=error.get("is_transient") is True,
    )


# How each Graph error is handled, one row per code (or subcode), each with the page that says so.
ERRORS_PAGE = "https://developers.facebook.com/docs/graph-api/guides/error-handling"
RATE_PAGE = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"
VIDEO_PAGE = "https://developers.facebook.com/docs/video-api/reference/error-codes"
POLICY_BLOCK_WAIT = timedelta(hours=6)
"""Code 368 ("temporarily blocked for policies violations: wait and retry") names no end time; a
block lasts hours, so the post waits hours rather than spending its attempts within minutes."""


@dataclass(frozen=True)
class Rule:
    """What Loa does with one Graph error: its class, and a wait when Graph names no reset time."""

    outcome: Literal["auth", "transient", "permanent", "duplicate"]
    source: str
    wait: timedelta | None = None


AUTH, TRANSIENT = Rule("auth", ERRORS_PAGE), Rule("transient", ERRORS_PAGE)
THROTTLED = Rule("transient", RATE_PAGE)
CODES: dict[int, Rule] = {
    1: TRANSIENT,  # API Unknown: possibly downtime, wait and retry
    2: TRANSIENT,  # API Service: temporary downtime
    3: AUTH,  # API Method: capability or permissions issue
    4: THROTTLED,  # application request limit
    10: AUTH,  # permission denied or removed
    17: THROTTLED,  # user request limit
    32: THROTTLED,  # page request limit
    102: AUTH,  # API Session: login status or token expired or revoked
    104: AUTH,  # no access token
    190: AUTH,  # token expired or invalid: subcodes 458, 459, 460, 463, 464, 467 all need a new token
    341: THROTTLED,  # application limit reached
    368: Rule("transient", ERRORS_PAGE, wait=POLICY_BLOCK_WAIT),  # temporarily blocked for policy violations
    613: THROTTLED,  # custom rate limit
    80001: THROTTLED,  # Pages business-use-case limit
    100: Rule("permanent", ERRORS_PAGE),  # invalid parameter
    506: Rule("duplicate", ERRORS_PAGE),  # duplicate post
    1609005: Rule("permanent", ERRORS_PAGE),  # the link could not be posted
}
PERMISSION_CODES = range(200, 300)
"""API Permission (200-299): a permission missing or removed."""
SUBCODES: dict[int, Rule] = {
    # Video upload: start phase 6000 ("retry several times"), 1363042 ("get valid access token");
    # transfer phase 1363030 (timeout), 1363019 and 1363037 ("retry upload"). Meta's own uploader
    # (facebook-python-business-sdk facebook_business/video_uploader.py) retries 1363037 too.
    6000: Rule("transient", VIDEO_PAGE),
    1363030: Rule("transient", VIDEO_PAGE),
    1363019: Rule("transient", VIDEO_PAGE),
    1363037: Rule("transient", VIDEO_PAGE),
    1363042: Rule("auth", VIDEO_PAGE),
}
IS_TRANSIENT = Rule("transient", ERRORS_PAGE)
"""``is_transient: true`` in the error object: retry, whatever the code (the business SDK's
``FacebookRequestError.api_transient_error`` and its uploader read it the same way)."""
UNKNOWN = Rule("permanent", ERRORS_PAGE)


def rule_for(status: int | None, failure: GraphFailure) -> Rule:
    """The row of the table for this error; answers without a Graph code go by their HTTP status."""
    if failure.transient:
        return IS_TRANSIENT
    if failure.subcode in SUBCODES:
        return SUBCODES[failure.subcode]
    if failure.code in CODES:
        return CODES[failure.code]
    if failure.code in PERMISSION_CODES:
        return AUTH
    if failure.code is None and retryable(status):  # not Graph's answer (a proxy, a gateway)
        return TRANSIENT
    return UNKNOWN


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
    rule = rule_for(status, failure)
    message, code = failure.describe(), failure.code
    excerpt = redact(json.dumps(body, ensure_ascii=False)[:4000]) if isinstance(body, dict) else None
    code_text = None if code is None else (f"{code}/{failure.subcode}" if failure.subcode else str(code))
    error: ChannelError
    if rule.outcome == "auth":
        error = AuthError(message, code=code_text, excerpt=excerpt)
    elif rule.outcome == "transient":
        retry_at = retry_at_from(headers)
        if rule.wait is not None:
            retry_at = max(retry_at or datetime.now(UTC), datetime.now(UTC) + rule.wait)
        error = TransientError(message, code=code_text, excerpt=excerpt, retry_at=retry_at)
    elif rule.outcome == "duplicate":
        error = DuplicatePostError(message, code=code_text, excerpt=excerpt)
    else:
        error = PermanentError(message, code=code_text, excerpt=excerpt)
    error.graph = failure  # type: ignore[union-attr]  # the platform's error, whole, for callers
    return error


class GraphClient:
    """One per adapter: facebook-sdk for the Graph calls, httpx for streamed video chunks.

    facebook-sdk and requests are loaded by the first Graph call, not with the adapter: the ingest
    makes adapters to render previews and never calls Graph (``tests/unit/test_service_imports.py``)."""

    def __init__(self, base_url: str, version: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.timeout = timeout
        self._pool: RewritingAdapter | None = None
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), verify=client_context())

    def _ready(self) -> RewritingAdapter:
        """The requests transport every Graph call shares (its connection pool). The first call makes
        it and loads facebook-sdk and requests, on the event loop: not in two worker threads at once."""
        if self._pool is None:
            import facebook  # noqa: F401  # loaded here, used by ``_answer`` in a worker thread

            from loa.channels.transport import RewritingAdapter

            self._pool = RewritingAdapter(
                SDK_DEFAULT_URL, self.base_url, self.timeout, pool_connections=4, pool_maxsize=16
            )
        return self._pool

    def _session(self, token: str) -> tuple[requests.Session, dict[str, requests.Response]]:
        import requests

        session = requests.Session()
        pool = self._ready()
        session.mount("http://", pool)
        session.mount("https://", pool)
        session.headers["Authorization"] = f"OAuth {token}"
        seen: dict[str, requests.Response] = {}

        def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            seen["response"] = response

        session.hooks["response"].append(keep)
        return session, seen

    def _answer(
        self,
        token: str,
        path: str,
        args: dict[str, Any] | None,
        post_args: dict[str, Any] | None,
        files: dict[str, Any] | None,
        method: str | None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The answer's body and its headers (the usage headers: ``retry_at_from``, ``usage_of``)."""
        import facebook
        import requests

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
            # facebook-sdk sends a POST when there are post_args (GraphAPI.request), else ``method``.
            sent_as = "POST" if post_args is not None else method
            message = f"Graph API unreachable ({type(e).__name__}) at {self.base_url}"
            raise transport_error(message, e, creates=creates(sent_as)) from e
        response = seen.get("response")
        headers = dict(response.headers) if response is not None else {}
        if response is not None and response.status_code >= 400:
            raise map_error(response.status_code, headers, result)
        return (result if isinstance(result, dict) else {"data": result}), headers

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
        self._ready()
        body, _ = await in_thread(self._answer, token, path, args, post_args, files, method)
        return body

    async def read(
        self, token: str, path: str, args: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A GET with its answer's headers, off the event loop (the listener's reads)."""
        self._ready()
        return await in_thread(self._answer, token, path, args, None, None, "GET")

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
        if self._pool is not None:
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

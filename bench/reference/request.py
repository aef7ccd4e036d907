"""The webhook adapter's request, made with stdlib ``http.client`` on one kept-alive connection per
worker thread (issue #20: 0.27 ms of client CPU per 1.4 kB POST here, against 4.7 ms for
``httpx.AsyncClient`` with 32 in flight) — ``Sender`` — or, for the floor under the brief's fixed
choice of HTTP client, with ``httpx.AsyncClient`` on the event loop, a client per account as the
webhook adapter makes them (``loa.channels.clients``) — ``HttpxSender`` — or with a sync
``httpx.Client`` in each worker thread — ``HttpxThreadSender``.

Same URL, protocol headers, signature and body as ``services/webhook/adapter.py`` (its ``sign``,
``request_headers`` and ``encode_body``); only the transport's own headers differ (``http.client``
sends ``Host``, ``Accept-Encoding: identity`` and ``Content-Length``, no ``User-Agent``). Answers map
onto published / failed / in doubt by the shared rule, ``loa.channels.http.error_class``.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import time
from urllib.parse import quote, urlencode, urlsplit

import httpx

from bench.reference.store import Answer, Row
from loa.channels import Account, TransientError
from loa.channels.clients import ClientPerAccount
from loa.channels.http import error_class
from loa.tls import client_context
from services.webhook.adapter import request_headers, sign

CLIENTS = ("http.client", "httpx", "httpx-threads")
"""``--client``: ``Sender``, ``HttpxSender``, ``HttpxThreadSender`` (``sender``)."""
IDLE_S = 4.0
"""Below the receivers' keep-alive: uvicorn closes an idle connection after 5 s (its default
``timeout_keep_alive``; the first bench run found 8 of 1,200 POSTs written to such a connection)."""


class Sender:
    """Signed requests to webhook receivers; call from worker threads (a connection per thread and host)."""

    def __init__(self, secrets: dict[str, str], timeout_s: float) -> None:
        self._secrets = secrets  # account name → the receiver's secret; never logged
        self._timeout = timeout_s
        self._local = threading.local()

    def publish(self, row: Row) -> Answer:
        """Ask first if ``row`` may have been sent before (``settle``), else POST it."""
        status, body = self._request("POST", row, row.body)
        return _answer(row.key, status, body, requests=1)

    def settle(self, row: Row) -> Answer:
        """A row in flight: GET ``{url}/deliveries?idempotency_key=K``; POST only if the receiver
        has no live delivery of that key (what the runtime's ``find_existing`` does after a crash)."""
        asked = _asked(row.key, *self._request("GET", row, b"", "/deliveries", {"idempotency_key": row.key}))
        return asked or _again(self.publish(row))

    def _request(
        self, method: str, row: Row, body: bytes, path: str = "", params: dict[str, str] | None = None
    ) -> tuple[int | None, bytes]:
        """``(status, body)``; ``(None, reason)`` when no answer came (sent or not: in doubt)."""
        url = urlsplit(row.url.rstrip("/") + path)
        target = quote(url.path, safe="/:@!$&'()*+,;=~%") + (f"?{urlencode(params)}" if params else "")
        timestamp = str(int(time.time()))
        headers = request_headers(method, timestamp, row.key)
        secret = self._secrets[row.account]
        headers["X-Loa-Signature"] = sign(secret, timestamp, method, target, row.key, body)
        try:
            conn = self._connection(url.scheme, url.netloc)
            conn.request(method, target, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as e:
            self._drop(url.scheme, url.netloc)
            return None, type(e).__name__.encode()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        """This thread's connection to ``netloc``, new if it idled ``IDLE_S`` (the server may have
        closed it: a request written to it then gets no answer and is in doubt)."""
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        used: dict[tuple[str, str], float] = self._local.__dict__.setdefault("used", {})
        now = time.monotonic()
        if now - used.get((scheme, netloc), now) > IDLE_S:
            self._drop(scheme, netloc)
        used[(scheme, netloc)] = now
        conn = pool.get((scheme, netloc))
        if conn is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = pool[(scheme, netloc)] = kind(netloc, timeout=self._timeout)
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._local.__dict__.get("pool", {}).pop((scheme, netloc), None)
        if conn is not None:
            conn.close()


class HttpxSender:
    """``Sender``'s requests with ``httpx.AsyncClient``, awaited on the event loop (no threads)."""

    def __init__(self, accounts: dict[str, Account], timeout_s: float) -> None:
        self._accounts = accounts  # their secrets are never logged
        self._http = ClientPerAccount(timeout=timeout_s)

    async def publish(self, row: Row) -> Answer:
        status, body = await self._request("POST", row, row.body)
        return _answer(row.key, status, body, requests=1)

    async def settle(self, row: Row) -> Answer:
        """As ``Sender.settle``: asked by its key first, POSTed only if the receiver has none."""
        asked = _asked(
            row.key, *await self._request("GET", row, b"", "/deliveries", {"idempotency_key": row.key})
        )
        return asked or _again(await self.publish(row))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self, method: str, row: Row, body: bytes, path: str = "", params: dict[str, str] | None = None
    ) -> tuple[int | None, bytes]:
        """As ``Sender._request``."""
        account = self._accounts[row.account]
        client = self._http(account)
        request = _signed(client, method, row, body, path, params, account.secret("secret"))
        try:
            response = await client.send(request)
        except httpx.TransportError as e:
            return None, type(e).__name__.encode()
        return response.status_code, response.content


class HttpxThreadSender(Sender):
    """``Sender``'s worker threads with a sync ``httpx.Client`` each instead of ``http.client``: the
    other way to use the brief's client (``--client httpx-threads``)."""

    def _request(
        self, method: str, row: Row, body: bytes, path: str = "", params: dict[str, str] | None = None
    ) -> tuple[int | None, bytes]:
        client: httpx.Client | None = self._local.__dict__.get("httpx")
        if client is None:
            client = self._local.__dict__["httpx"] = httpx.Client(
                timeout=self._timeout, verify=client_context()
            )
        request = _signed(client, method, row, body, path, params, self._secrets[row.account])
        try:
            response = client.send(request)
        except httpx.TransportError as e:
            return None, type(e).__name__.encode()
        return response.status_code, response.content


def sender(client: str, accounts: dict[str, Account], timeout_s: float) -> Sender | HttpxSender:
    """The sender of ``client`` (one of ``CLIENTS``) for ``accounts``."""
    if client == "httpx":
        return HttpxSender(accounts, timeout_s)
    secrets = {name: account.secret("secret") for name, account in accounts.items()}
    return (HttpxThreadSender if client == "httpx-threads" else Sender)(secrets, timeout_s)


def _signed(
    client: httpx.Client | httpx.AsyncClient,
    method: str,
    row: Row,
    body: bytes,
    path: str,
    params: dict[str, str] | None,
    secret: str,
) -> httpx.Request:
    """The webhook adapter's request as its ``_send`` builds it: signed over the path and query
    httpx sends."""
    timestamp = str(int(time.time()))
    headers = request_headers(method, timestamp, row.key)
    url = row.url.rstrip("/") + path
    request = client.build_request(method, url, content=body, headers=headers, params=params)
    target = request.url.raw_path.decode("ascii")
    request.headers["X-Loa-Signature"] = sign(secret, timestamp, method, target, row.key, body)
    return request


def _asked(key: str, status: int | None, body: bytes) -> Answer | None:
    """What asking the receiver for ``key`` settled, or None: it has no live delivery, POST it."""
    if status != 200:
        return _answer(key, status, body, requests=1)
    live = [d for d in json.loads(body)["data"] if d.get("status") != "deleted"]
    return _published(key, live[0], requests=1) if live else None


def _again(posted: Answer) -> Answer:
    """A POST made after asking: two requests."""
    return dataclasses.replace(posted, requests=posted.requests + 1)


def _published(key: str, delivery: dict[str, object], requests: int) -> Answer:
    return Answer(key, "published", requests, str(delivery["id"]), str(delivery.get("url") or "") or None)


def _answer(key: str, status: int | None, body: bytes, requests: int) -> Answer:
    if status is not None and status < 300:
        return _published(key, json.loads(body), requests)
    if status is None or error_class(status) is TransientError:
        # No answer (maybe sent), 408, 425, 429 or 5xx: stays in flight, asked again before any POST.
        return Answer(key, "in_flight", requests, error=f"HTTP {status}" if status else body.decode())
    excerpt = body[:500].decode(errors="replace")
    return Answer(key, "failed", requests, error=f"HTTP {status}: {excerpt}")

"""The webhook channel: POST each content as signed JSON to a receiver (intranet portal, chat bot).

The reference adapter: copy it to start a channel (``loa new-channel NAME`` does). One account is
one receiver: ``options["url"]`` and the credential ``secret``. The receiver's protocol is in
``README.md``; the sandbox's ``/webhook/{endpoint}`` implements it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from loa.channels import (
    Account,
    ChannelAdapter,
    Context,
    LimitError,
    Limits,
    PermanentError,
    Post,
    PublishResult,
    register,
)
from loa.channels.clients import ClientPerAccount
from loa.channels.http import http_error, reset_at, retry_at
from loa.channels.in_doubt import creates, transport_error
from loa.events import Content, Target
from loa.mode import require_https_option, target_host
from services.webhook.settings import WebhookSettings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""Receivers may refuse larger bodies (the sandbox answers 413); refused at render, before any I/O."""


def sign(secret: str, timestamp: str, method: str, target: str, delivery: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over timestamp, method, request target, delivery and body.

    The message is ``"<timestamp>\\n<METHOD>\\n<path?query>\\n<X-Loa-Delivery>\\n" + body``. Signing the
    body and timestamp alone (Stripe's scheme) let a captured request be replayed within the
    tolerance as another method or against another path: a signed PUT of one delivery became a
    valid DELETE or PUT of another. Binding method and target is what HTTP message signatures do
    (RFC 9421 §2.2: ``@method``, ``@target-uri``); the delivery id names the Loa delivery.
    """
    message = "\n".join((timestamp, method.upper(), target, delivery)).encode() + b"\n" + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def request_headers(method: str, timestamp: str, key: str | None) -> dict[str, str]:
    """Every header of a request but the signature (``README.md``, "The receiver's protocol")."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Loa-Timestamp": timestamp,
        "X-Loa-Delivery": key or "",
    }
    if key is not None and method in ("POST", "PUT"):
        headers["Idempotency-Key"] = key
    return headers


def encode_body(document: dict[str, Any], media_urls: list[str] | None) -> bytes:
    """The request body: the rendered document, with ``media_urls[i]`` as media ``i``'s ``url``."""
    if media_urls is not None:
        media = [{**m, "url": url} for m, url in zip(document["media"], media_urls, strict=True)]
        document = {**document, "media": media}
    return json.dumps(document, ensure_ascii=False).encode()


def retry_time(response: httpx.Response) -> datetime | None:
    """When to retry: ``Retry-After``, else ``X-RateLimit-Reset`` (epoch seconds)."""
    return retry_at(response.headers) or reset_at(response.headers, "X-RateLimit-Reset")


@register
class WebhookAdapter(ChannelAdapter):
    name = "webhook"
    metrics_port = 9106  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    # Slack truncates message text after 40,000 characters
    # (api.slack.com/changelog/2018-04-truncating-really-long-messages): the smallest common
    # limit of the chat bots a webhook feeds. Counted in code points of the NFC text.
    # Media travel as presigned links, not bytes: any type and size, as many as a content holds (50).
    limits = Limits(
        text_max=40_000, title_max=500, max_images=50, max_videos=50, requests_per_period=(10, 1.0)
    )
    supports_update: ClassVar[bool] = True

    def __init__(self, context: Context, settings: WebhookSettings | None = None) -> None:
        super().__init__(context, settings or WebhookSettings())
        self.settings: WebhookSettings
        self._http = ClientPerAccount(timeout=self.settings.webhook_timeout_s)

    def target_host(self, account: Account) -> str | None:
        """The receiver's host: its URL is the account's option."""
        url = account.options.get("url")
        return target_host(str(url)) if url else None

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        if not account.options.get("url"):
            raise PermanentError(f"account {account.name}: options.url is missing (the receiver's URL)")
        require_https_option(str(account.options["url"]), "url", account.name, self.settings.mode)
        title = target.title or content.title
        text = target.text or content.summary or content.title
        key = f"loa-{content.id}-v{content.version}-{hashlib.sha256(account.name.encode()).hexdigest()[:10]}"
        document = {
            "id": content.id,
            "version": content.version,
            "idempotency_key": key,
            "title": title,
            "summary": content.summary,
            "text": text,
            "body_html": content.body,
            "url": self.context.canonical_url(content),
            "language": content.language,
            "kind": content.kind.value,
            "unit": content.unit,
            "tags": content.tags,
            "approved_at": content.approved_at.isoformat(),
            "publish_at": content.publish_at.isoformat() if content.publish_at else None,
            "media": [
                m.model_dump(mode="json", include={"key", "sha256", "content_type", "size", "alt", "caption"})
                for m in content.media
            ],
        }
        size = len(json.dumps(document, ensure_ascii=False).encode())
        if size > MAX_BODY_BYTES:
            raise LimitError(
                f"body: the JSON document is {size} bytes, receivers accept at most {MAX_BODY_BYTES}"
            )
        return Post(
            content.id,
            content.version,
            self.name,
            account.name,
            marker=key,
            title=title,
            texts=[text],
            media=list(content.media),
            payload={"document": document},
        )

    async def publish(self, post: Post, account: Account) -> PublishResult:
        response = await self._send("POST", "", account, await self._body(post), post.marker)
        return self._result(response.json(), post.marker)

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        params = {"idempotency_key": post.marker}
        response = await self._send("GET", "/deliveries", account, key=post.marker, params=params)
        live = [d for d in response.json()["data"] if d.get("status") != "deleted"]
        return self._result(live[0], post.marker) if live else None

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        body = await self._body(post)
        response = await self._send("PUT", f"/deliveries/{previous.external_id}", account, body, post.marker)
        return self._result(response.json(), post.marker)

    async def retract(self, previous: PublishResult, account: Account) -> None:
        key = previous.extra.get("idempotency_key")
        try:
            await self._send("DELETE", f"/deliveries/{previous.external_id}", account, key=key)
        except PermanentError as e:
            if e.code not in {"404", "410"}:  # already gone is what we wanted
                raise

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _body(self, post: Post) -> bytes:
        """The document, with a presigned URL per media (made now: it must outlive the delivery)."""
        document: dict[str, Any] = post.payload["document"]
        urls: list[str] | None = None
        if document["media"] and self.settings.webhook_presign_media:
            ttl = timedelta(seconds=self.settings.webhook_media_url_ttl_s)
            urls = [
                await asyncio.to_thread(self.context.media.presigned_get, m["key"], ttl)
                for m in document["media"]
            ]
        return encode_body(document, urls)

    def _result(self, delivery: dict[str, Any], key: str) -> PublishResult:
        return PublishResult(str(delivery["id"]), delivery.get("url"), {"idempotency_key": key})

    async def _send(
        self,
        method: str,
        path: str,
        account: Account,
        body: bytes = b"",
        key: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Sign and send; map the answer onto AuthError / TransientError / PermanentError."""
        url = str(account.options["url"]).rstrip("/") + path
        timestamp = str(int(time.time()))
        headers = request_headers(method, timestamp, key)
        http = self._http(account)
        request = http.build_request(method, url, content=body, headers=headers, params=params)
        target = request.url.raw_path.decode("ascii")  # path and query, exactly as sent
        request.headers["X-Loa-Signature"] = sign(
            account.secret("secret"), timestamp, method, target, key or "", body
        )
        # Never the whole URL in a message: chat-bot webhook URLs carry a token in their path.
        where = f"webhook {account.name} ({urlsplit(url).hostname}) {method}"
        try:
            response = await http.send(request)
        except httpx.TransportError as e:
            # Sent (a read or write timed out, the connection dropped): the receiver may have it.
            timed_out = isinstance(e, httpx.TimeoutException)
            cause = f"timed out after {self.settings.webhook_timeout_s} s" if timed_out else type(e).__name__
            raise transport_error(f"{where}: {cause}", e, creates=creates(method)) from e
        status, excerpt = response.status_code, response.text[:500]
        log.info("%s: HTTP %s", where, status, extra={"channel": self.name, "account": account.name})
        if status < 300:
            return response
        message = f"{where}: HTTP {status}: {excerpt}"
        raise http_error(status, message, excerpt=excerpt, retry_at=retry_time(response))

"""WordPress mode: posts through the WordPress REST API (``/wp-json/wp/v2``).

Sources (WordPress REST API Handbook, developer.wordpress.org/rest-api/):
- Authentication: application passwords over HTTP Basic auth (WordPress 5.6+), handbook
  "Authentication" → "Basic Authentication with Application Passwords".
- Posts: reference/posts/ — ``POST /wp/v2/posts`` (``status`` one of publish, future, draft,
  pending, private; ``date_gmt``; ``featured_media``; ``slug``), ``POST /wp/v2/posts/<id>``
  updates the fields sent, ``GET /wp/v2/posts/<id>?context=edit`` answers ``content.raw``,
  ``DELETE /wp/v2/posts/<id>`` moves to the trash unless ``force=true``; a second DELETE answers
  ``410 rest_already_trashed``. Corrections: ``wp_corrections.py``.
- Media: reference/media/ — ``POST /wp/v2/media`` with the file as the raw body,
  ``Content-Disposition: attachment; filename=...`` and its ``Content-Type``.
- Errors are ``{"code": "rest_...", "message": ..., "data": {"status": N}}`` (handbook
  "Global Parameters"/"Using the REST API" → errors). ``rest_cannot_publish`` comes from
  ``WP_REST_Posts_Controller::handle_status_param`` with ``rest_authorization_required_code()``
  (401 when not logged in, 403 when the user lacks ``publish_posts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from loa.channels import (
    Account,
    AuthError,
    Context,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
)
from loa.channels.http import http_error, retry_at, retryable
from loa.events import Content, MediaRef
from loa.html import clean
from loa.links import short_id
from loa.media import MediaStore
from loa.mode import require_https_option
from loa.text import slugify
from loa.tls import client_context
from services.website.settings import WebsiteSettings
from services.website.wordpress_terms import terms
from services.website.wp_corrections import keep_blocks, raw_content

API = "/wp-json/wp/v2"
AUTH_CODES = frozenset(
    {
        "rest_cannot_publish",
        "rest_cannot_create",
        "rest_cannot_edit",
        "rest_cannot_delete",
        "rest_forbidden",
        "rest_not_logged_in",
        "incorrect_password",
        "invalid_username",
        "invalid_email",
        "application_passwords_disabled",
    }
)
_MEDIA_SRC = re.compile(r'src="loa-media:sha256/([0-9a-f]{64})"')
READ_CHUNK = 1024 * 1024


PULLED_BACK = "pulled_back"
"""In ``post.progress``: the id of the post a hold set back to ``draft``; ``publish`` restores it."""


def wp_slug(content: Content) -> str:
    """The post's slug, also its marker: deterministic, unique per content (WordPress caps at 200)."""
    return f"{slugify(content.title, max_length=180)}-{short_id(content.id)}"


def map_error(response: httpx.Response, action: str) -> Exception:
    """WordPress's error JSON → our three errors, keeping its code and message."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    text = f"WordPress {action}: {response.status_code} {code or ''} {message or ''}".strip()
    excerpt = response.text[:4000]
    code = code or response.status_code
    if code in AUTH_CODES and not retryable(response.status_code):  # the user may not, whatever the status
        return AuthError(text, code=code, excerpt=excerpt)
    return http_error(
        response.status_code, text, code=code, excerpt=excerpt, retry_at=retry_at(response.headers)
    )


class WordPress:
    """One HTTP pool for every WordPress account of this publisher."""

    def __init__(self, settings: WebsiteSettings) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=settings.website_http_timeout_s, verify=client_context())
        self._editing: weakref.WeakValueDictionary[tuple[str | None, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def site(self, account: Account) -> str | None:
        """The account's WordPress site: its ``url`` option, else ``LOA_WEBSITE_WORDPRESS_URL``."""
        site = account.options.get("url") or self.settings.website_wordpress_url
        return None if site is None else str(site)

    def _base(self, account: Account) -> str:
        site = self.site(account)
        if site is None:  # production has no default WordPress site
            raise PermanentError(
                f"account {account.name}: options.url is missing (or LOA_WEBSITE_WORDPRESS_URL)"
            )
        url = require_https_option(str(site), "url", account.name, self.settings.mode)
        return url.rstrip("/") + API

    def _auth(self, account: Account) -> httpx.BasicAuth:
        try:
            return httpx.BasicAuth(account.secret("username"), account.secret("application_password"))
        except KeyError as e:
            raise AuthError(f"WordPress account {account.name}: {e.args[0]}") from e

    async def _call(self, account: Account, method: str, path: str, action: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(
                method, self._base(account) + path, auth=self._auth(account), **kwargs
            )
        except httpx.TimeoutException as e:
            raise TransientError(f"WordPress {action}: timed out") from e
        except httpx.TransportError as e:
            raise TransientError(f"WordPress {action}: {type(e).__name__}") from e
        if response.status_code >= 400:
            raise map_error(response, action)
        return response.json()

    @contextlib.asynccontextmanager
    async def editing(self, account: Account, post_id: str) -> AsyncIterator[None]:
        """One read-then-write of a post at a time in this process: the REST API has no conditional
        update, and a correction's notice and a new version of its post both rewrite ``content``."""
        key = (self.site(account), post_id)
        lock = self._editing.get(key)
        if lock is None:
            lock = self._editing[key] = asyncio.Lock()
        async with lock:
            yield

    async def read(self, account: Account, post_id: str) -> dict[str, Any]:
        """The post as its editor sees it (``context=edit``: ``content.raw``, ``title.raw``, status)."""
        item: dict[str, Any] = await self._call(
            account, "GET", f"/posts/{post_id}", "read post", params={"context": "edit"}
        )
        return item

    async def set_content(self, account: Account, post_id: str, content: str, action: str) -> dict[str, Any]:
        """``POST /wp/v2/posts/<id>`` with ``content`` alone: its other fields stay as they are."""
        item: dict[str, Any] = await self._call(
            account, "POST", f"/posts/{post_id}", action, json={"content": content}
        )
        return item

    # -- media ------------------------------------------------------------------------------

    @staticmethod
    async def _stream(media: MediaStore, ref: MediaRef) -> AsyncIterator[bytes]:
        stream = await asyncio.to_thread(media.open, ref.key)
        try:
            while chunk := await asyncio.to_thread(stream.read, READ_CHUNK):
                yield chunk
        finally:
            stream.close()
            stream.release_conn()

    async def _upload(self, media: MediaStore, ref: MediaRef, account: Account) -> dict[str, Any]:
        extension = ref.content_type.split("/", 1)[1].split("+")[0]
        headers = {
            "Content-Type": ref.content_type,
            "Content-Disposition": f'attachment; filename="{ref.sha256[:16]}.{extension}"',
            "Content-Length": str(ref.size),
        }
        params = {"alt_text": ref.alt, "caption": ref.caption} if ref.alt or ref.caption else None
        result: dict[str, Any] = await self._call(
            account,
            "POST",
            "/media",
            "media upload",
            content=self._stream(media, ref),
            headers=headers,
            params=params,
        )
        return result

    async def _media(
        self, post: Post, content: Content, account: Account, context: Context
    ) -> dict[str, Any]:
        """Upload each image once (ids kept in ``post.progress`` across retries)."""
        uploaded: dict[str, Any] = post.progress.setdefault("wordpress_media", {})
        for ref in content.media:
            if ref.is_image and ref.sha256 not in uploaded:
                item = await self._upload(context.media, ref, account)
                uploaded[ref.sha256] = {"id": item["id"], "source_url": item.get("source_url", "")}
                await context.save_progress(post)
        return uploaded

    # -- posts ------------------------------------------------------------------------------

    def _fields(
        self, post: Post, content: Content, uploaded: dict[str, Any], when: datetime | None
    ) -> dict[str, Any]:
        """The post's fields; ``when``: the time WordPress holds it until (status ``future``), or None."""

        def relink(match: re.Match[str]) -> str:
            item = uploaded.get(match.group(1))
            return f'src="{item["source_url"]}"' if item else 'src=""'

        body = clean(_MEDIA_SRC.sub(relink, clean(content.body)))
        fields: dict[str, Any] = {
            # WordPress renders title and excerpt as HTML: our plain text is escaped for it.
            "title": html.escape(content.title, quote=False),
            "content": body,
            "excerpt": html.escape(content.summary, quote=False),
            "slug": wp_slug(content),
            "status": "publish",
        }
        lead = next((m for m in content.media if m.is_image and m.sha256 in uploaded), None)
        if lead is not None:
            fields["featured_media"] = uploaded[lead.sha256]["id"]
        if when is not None:
            # WordPress holds a post whose date is ahead and publishes it itself (status future);
            # ``when`` is already in whole seconds, rounded up: truncating it would go out early.
            fields["status"] = "future"
        date = when or post.due_at
        if date is not None:
            fields["date_gmt"] = date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return fields

    @staticmethod
    def _result(item: dict[str, Any]) -> PublishResult:
        return PublishResult(
            external_id=str(item["id"]),
            url=item.get("link"),
            extra={"mode": "wordpress", "slug": item.get("slug"), "status": item.get("status")},
            scheduled_natively=item.get("status") == "future",
        )

    async def publish(
        self, post: Post, account: Account, context: Context, when: datetime | None
    ) -> PublishResult:
        from services.website.adapter import content_of

        pulled_back = post.progress.get(PULLED_BACK)
        if pulled_back:  # after a hold: the draft goes back to ``future`` at its time (or ``publish``)
            item = await self.update(post, PublishResult(str(pulled_back)), account, context, when)
            post.progress.pop(PULLED_BACK, None)
            await context.save_progress(post)
            return item
        content = content_of(post)
        uploaded = await self._media(post, content, account, context)
        fields = self._fields(post, content, uploaded, when) | await self._terms(account, content)
        item = await self._call(account, "POST", "/posts", "create post", json=fields)
        return self._result(item)

    async def _terms(self, account: Account, content: Content) -> dict[str, list[int]]:
        async def call(method: str, path: str, action: str, **kwargs: Any) -> Any:
            return await self._call(account, method, path, action, **kwargs)

        return await terms(call, content)

    async def update(
        self, post: Post, previous: PublishResult, account: Account, context: Context, when: datetime | None
    ) -> PublishResult:
        from services.website.adapter import content_of

        content = content_of(post)
        uploaded = await self._media(post, content, account, context)
        fields = self._fields(post, content, uploaded, when) | await self._terms(account, content)
        fields.pop("slug")  # the URL never changes
        post_id = previous.external_id
        async with self.editing(account, post_id):  # a correction's notice or link back stays on top
            fields["content"] = keep_blocks(raw_content(await self.read(account, post_id)), fields["content"])
            item = await self._call(account, "POST", f"/posts/{post_id}", "update post", json=fields)
        return self._result(item)

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        from services.website.adapter import content_of

        slug = wp_slug(content_of(post))
        params = {"slug": slug, "status": "publish,future,draft,pending,private", "context": "edit"}
        items = await self._call(account, "GET", "/posts", "find post", params=params)
        if not items or (post.progress.get(PULLED_BACK) and items[0].get("status") == "draft"):
            return None  # a draft a hold pulled back is not published: ``publish`` puts it back
        return self._result(items[0])

    async def pull_back(
        self, post: Post, previous: PublishResult, account: Account, context: Context
    ) -> bool:
        """A hold: the ``future`` post back to ``draft`` (WordPress publishes only ``future`` posts at
        their date). One already ``publish`` is left alone (False); a draft already: nothing to do."""
        item = await self.read(account, previous.external_id)
        if item.get("status") == "publish":
            return False
        if item.get("status") != "draft":
            await self._call(
                account, "POST", f"/posts/{previous.external_id}", "pull back post", json={"status": "draft"}
            )
        post.progress = {**post.progress, PULLED_BACK: previous.external_id}
        await context.save_progress(post)
        return True

    async def retract(self, previous: PublishResult, account: Account) -> None:
        """Move the post to the trash (no ``force``): an editor can still restore it."""
        try:
            await self._call(account, "DELETE", f"/posts/{previous.external_id}", "trash post")
        except PermanentError as e:
            if e.code in {"rest_already_trashed", "rest_post_invalid_id"}:
                return  # already down: retracting is idempotent
            raise

    async def confirm(self, previous: PublishResult, account: Account) -> PublishResult | None:
        item = await self.read(account, previous.external_id)
        return self._result(item) if item.get("status") == "publish" else None

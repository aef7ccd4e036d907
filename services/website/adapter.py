"""The website adapter: the static site in MinIO by default, WordPress per account.

An account chooses its mode with ``options["mode"]``: ``"static"`` (default) or ``"wordpress"``
(then ``options["url"]`` and the credentials ``username`` + ``application_password``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from loa.channels import (
    Account,
    ChannelAdapter,
    Context,
    Limits,
    NativeWindow,
    PermanentError,
    Post,
    PublishResult,
    register,
)
from loa.channels.corrections import CorrectionLink
from loa.events import Content, Target
from loa.mode import target_host
from services.website import wp_corrections
from services.website.settings import WebsiteSettings
from services.website.site.bucket import SiteBucket
from services.website.site.index import IndexBuilder
from services.website.site.render import SiteInfo
from services.website.site.static import StaticSite
from services.website.wordpress import WordPress

log = logging.getLogger(__name__)

MODES = ("static", "wordpress")


def marker_of(content_id: str) -> str:
    return f"loa-{content_id}"


def content_of(post: Post) -> Content:
    """The content carried in the job; the body is set after validation, so the render-time
    sanitiser is what guards a stored job (defence in depth), never the edge check alone."""
    data = dict(post.payload["content"])
    body = data.pop("body", "")
    return Content.model_validate(data).model_copy(update={"body": body})


@register
class WebsiteAdapter(ChannelAdapter):
    name = "website"
    metrics_port = 9101  # /livez, /readyz, /metrics (deploy/local/services.Procfile)
    limits = Limits(
        title_max=500,
        media_types=frozenset(
            {"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "video/webm"}
        ),
        image_max_bytes=20 * 1024 * 1024,
        video_max_bytes=4 * 1024 * 1024 * 1024,
        max_images=50,
        max_videos=5,
    )
    supports_update: ClassVar[bool] = True

    def __init__(self, context: Context, settings: Any = None) -> None:
        super().__init__(context, settings if settings is not None else WebsiteSettings())
        self.settings: WebsiteSettings
        self._static: StaticSite | None = None
        self._wordpress: WordPress | None = None

    # -- backends ---------------------------------------------------------------------------

    @property
    def static(self) -> StaticSite:
        if self._static is None:
            s = self.settings
            media = self.context.media
            site = SiteInfo(
                s.website_site_name, s.website_site_description, str(s.website_base_url).rstrip("/")
            )
            index = IndexBuilder(
                SiteBucket(media.client, media.website_bucket),
                site,
                s.website_page_size,
                s.website_index_pages,
                s.website_topic_pages,
                s.website_feed_size,
            )
            self._static = StaticSite(media, site, index, s.website_retract_mode)
        return self._static

    @property
    def wordpress(self) -> WordPress:
        if self._wordpress is None:
            self._wordpress = WordPress(self.settings)
        return self._wordpress

    @staticmethod
    def mode(account: Account) -> str:
        mode = str(account.options.get("mode", "static"))
        if mode not in MODES:
            raise PermanentError(f"account {account.name}: options.mode must be one of {MODES}, not {mode!r}")
        return mode

    def native_window(self, account: Account) -> NativeWindow | None:
        """The static site cannot hold a post; WordPress holds one dated ahead (status ``future``,
        https://developer.wordpress.org/rest-api/reference/posts/), with no upper bound."""
        if self.mode(account) != "wordpress":
            return None
        return NativeWindow(min_lead=timedelta(seconds=self.settings.website_wordpress_native_min_lead_s))

    # -- the contract ---------------------------------------------------------------------

    def target_host(self, account: Account) -> str | None:
        """The WordPress site's host, or for the static site the host it is served from."""
        if self.mode(account) == "wordpress":
            site = self.wordpress.site(account)
            return target_host(site) if site else None
        return target_host(str(self.settings.website_base_url))

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        mode = self.mode(account)
        url = self.context.canonical_url(content)
        title = target.title or content.title
        payload_content = content.model_dump(mode="json")
        payload_content["title"] = title
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=marker_of(content.id),
            title=title,
            texts=[title, content.summary] if content.summary else [title],
            media=list(content.media),
            payload={"mode": mode, "content": payload_content, "url": url, "path": urlsplit(url).path},
            due_at=content.publish_at,
        )

    async def publish(self, post: Post, account: Account) -> PublishResult:
        if self.mode(account) == "wordpress":
            when = self.native_time(post, account)
            return await self.wordpress.publish(post, account, self.context, when)
        return await self._write(post)

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        if self.mode(account) == "wordpress":
            when = self.native_time(post, account)
            return await self.wordpress.update(post, previous, account, self.context, when)
        return await self._write(post)

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        if self.mode(account) == "wordpress":
            return await self.wordpress.find_existing(post, account)
        path = post.payload["path"]
        if await asyncio.to_thread(self.static.find, path, post.marker):
            return self._result(post)
        return None

    async def retract(self, previous: PublishResult, account: Account) -> None:
        if self.mode(account) == "wordpress":
            await self.wordpress.retract(previous, account)
            return
        content_id = previous.extra.get("content_id")
        if not content_id:
            raise PermanentError("website: the published result carries no content_id to retract")
        await asyncio.to_thread(self.static.retract, str(content_id), previous.external_id)

    async def pull_back(self, post: Post, previous: PublishResult, account: Account) -> bool:
        if self.mode(account) != "wordpress":
            return await super().pull_back(post, previous, account)  # the static site never holds one
        return await self.wordpress.pull_back(post, previous, account, self.context)

    async def confirm(self, previous: PublishResult, account: Account) -> PublishResult | None:
        if self.mode(account) == "wordpress":
            return await self.wordpress.confirm(previous, account)
        return previous

    # -- corrections ------------------------------------------------------------------------

    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        """A WordPress account links a correction to its original by a step of its own
        (``wp_corrections.py``); the static site renders both articles within the correction's own
        delivery (``site/corrections.py``)."""
        return account is not None and account.options.get("mode") == "wordpress"

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        return await wp_corrections.link_correction(self._wordpress_of(account), link, account)

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        return await wp_corrections.find_correction_link(self._wordpress_of(account), link, account)

    def _wordpress_of(self, account: Account) -> WordPress:
        if self.mode(account) != "wordpress":
            raise PermanentError(f"account {account.name} is not a WordPress account: it links no correction")
        return self.wordpress

    async def aclose(self) -> None:
        if self._wordpress is not None:
            await self._wordpress.aclose()

    # -- static mode ------------------------------------------------------------------------

    async def _write(self, post: Post) -> PublishResult:
        content = content_of(post)
        entry = await asyncio.to_thread(
            self.static.write, content, post.payload["path"], post.payload["url"], post.marker
        )
        log.info("published %s", entry.path, extra=self._log_fields(post))
        return self._result(post, entry.path)

    def _result(self, post: Post, path: str | None = None) -> PublishResult:
        path = path or post.payload["path"]
        return PublishResult(
            external_id=path,
            url=self.static.site.base_url + path,
            extra={"content_id": post.content_id, "mode": "static"},
        )

    def _log_fields(self, post: Post) -> dict[str, Any]:
        return {
            "content_id": post.content_id,
            "channel": self.name,
            "account": post.account,
            "version": post.version,
        }

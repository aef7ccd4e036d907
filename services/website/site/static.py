"""Static mode: article pages, media and index records in the public website bucket (blocking)."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from loa.events import Content
from loa.media import MediaStore
from loa.media.store import public_media_user
from services.website.site import render as r
from services.website.site.bucket import SiteBucket
from services.website.site.entries import Entry, Scope, page_key, record_key, withdrawn_key
from services.website.site.index import HTML, IndexBuilder

log = logging.getLogger(__name__)

ARTICLE_CACHE = "public, max-age=300"
MEDIA_CACHE = "public, max-age=31536000, immutable"
_MARKER = re.compile(rb'<meta name="loa-marker" content="([^"]*)">')


def read_marker(page: bytes) -> str | None:
    found = _MARKER.search(page)
    return found.group(1).decode() if found else None


def media_user(content_id: str) -> str:
    """How the website marks its use of a public media copy (see ``MediaStore.publish_public``)."""
    return public_media_user("website", content_id)


class StaticSite:
    """Publishes, updates and retracts articles; every call is blocking (run it in a thread)."""

    def __init__(
        self, media: MediaStore, site: r.SiteInfo, index: IndexBuilder, retract_mode: str = "withdrawn"
    ) -> None:
        self.bucket = SiteBucket(media.client, media.website_bucket)
        self.media = media
        self.site = site
        self.index = index
        self.retract_mode = retract_mode
        self._bootstrapped = False

    def bootstrap(self) -> None:
        """The stylesheet and the 404 page; an empty front page and feeds on a new site."""
        if self._bootstrapped:
            return
        key = r.STYLESHEET_PATH.lstrip("/")
        if self.bucket.stat(key) is None:
            self.bucket.put(
                key, r.STYLESHEET, "text/css; charset=utf-8", "public, max-age=31536000, immutable"
            )
        self.bucket.put("404.html", r.render_status(self.site, 404), HTML, "public, max-age=300")
        self.bucket.put("410.html", r.render_status(self.site, 410), HTML, "public, max-age=300")
        if self.bucket.stat("index.html") is None:
            self.index.rebuild([Scope("all")])
        self._bootstrapped = True

    def copy_media(self, content: Content) -> None:
        for ref in content.media:
            self.media.publish_public(ref, used_by=media_user(content.id))

    def release_media(self, content_id: str, sha256s: list[str]) -> None:
        """The article no longer shows these media: their public copies go if nothing else shows them."""
        self.media.release_public(sha256s, used_by=media_user(content_id))

    def entry_for(self, content: Content, path: str, published: datetime) -> Entry:
        lead = next((m for m in content.media if m.is_image), None)
        return Entry(
            id=content.id,
            version=content.version,
            path=path,
            title=content.title,
            summary=content.summary,
            published=published,
            # A new version is approved again: that approval is when the article changed.
            updated=max(content.approved_at, published) if content.version > 1 else published,
            unit=content.unit,
            tags=list(content.tags),
            image=r.media_path(lead.sha256) if lead else None,
            image_alt=lead.alt if lead else "",
            media=sorted({m.sha256 for m in content.media}),
        )

    def write(self, content: Content, path: str, url: str, marker: str) -> Entry:
        """Write (or rewrite) the page, its entry keys, and rebuild the indexes it touches."""
        self.bootstrap()
        previous = self.current_entry(content.id)
        published = previous.published if previous else (content.publish_at or content.approved_at)
        if previous is not None and previous.path != path:
            # URLs never change: a later title or date keeps the first page's address.
            log.info("keeping the first URL %s of %s", previous.path, content.id)
            path, url = previous.path, self.site.base_url + previous.path
        entry = self.entry_for(content, path, published)
        if previous is not None and previous.version > entry.version:
            log.info("skipping stale version %s of %s", entry.version, content.id)
            return previous
        self.copy_media(content)
        view = r.article_view(content, url, marker, entry.published, entry.updated)
        self.bucket.put(page_key(path), r.render("article.html", self.site, a=view), HTML, ARTICLE_CACHE)
        if previous is None and self.retract_mode == "withdrawn":
            self.bucket.delete(withdrawn_key(path))  # a republished URL is live again
        raw = entry.to_json()
        keys = [*entry.index_keys(), record_key(content.id)]
        self.index.put_all([(key, raw, "application/json") for key in keys], cache_control=None)
        for key in entry.index_keys():
            self.index.cache.remember(key, entry)
        stale: list[str] = []
        if previous is not None:
            stale = [k for k in previous.index_keys() if k not in set(entry.index_keys())]
            self.bucket.delete_many(stale)
            self.release_media(content.id, [sha for sha in previous.media if sha not in entry.media])
        scopes = entry.scopes() + (previous.scopes() if previous else [])
        self.index.rebuild(scopes)
        return entry

    def current_entry(self, content_id: str) -> Entry | None:
        raw = self.bucket.get(record_key(content_id))
        return Entry.from_json(raw) if raw else None

    def find(self, path: str, marker: str) -> bool:
        page = self.bucket.get(page_key(path))
        return page is not None and read_marker(page) == marker

    def retract(self, content_id: str, path: str) -> None:
        """Remove the page and every index key; leave a 410 page (or nothing) at the URL."""
        self.bootstrap()
        entry = self.current_entry(content_id)
        if self.retract_mode == "withdrawn":
            self.bucket.put(withdrawn_key(path), r.render_status(self.site, 410), HTML, "public, max-age=300")
        self.bucket.delete(page_key(path))
        if entry is None:
            return
        self.bucket.delete_many(entry.index_keys())
        self.bucket.delete(record_key(content_id))
        self.index.rebuild(entry.scopes())
        self.release_media(content_id, entry.media)

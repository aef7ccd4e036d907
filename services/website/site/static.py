"""Static mode: article pages, media and index records in the public website bucket (blocking)."""

from __future__ import annotations

import logging
import re

from loa.events import Content
from loa.media import MediaStore
from loa.media.store import public_media_user, public_sha256
from services.website.site import render as r
from services.website.site.bucket import SiteBucket
from services.website.site.corrections import ArticleSource, Corrections, Note
from services.website.site.entries import Entry, Scope, page_key, record_key, withdrawn_key
from services.website.site.index import HTML, IndexBuilder
from services.website.site.renditions import renditions_of

log = logging.getLogger(__name__)

ARTICLE_CACHE = "public, max-age=300"
MEDIA_CACHE = "public, max-age=31536000, immutable"
MAX_RENDERS = 8
Inputs = tuple[ArticleSource | None, list[Note], r.Link | None]
"""What an article's page is rendered from: its source, the notes of its corrections, the article
it corrects (its path and title)."""
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
        self.corrections = Corrections(self.bucket)
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

    def renditions(self, source: ArticleSource) -> r.Renditions:
        """The narrower copies of the article's images, copied to the public bucket (its srcset)."""
        made: r.Renditions = {}
        for image in source.media:
            copies = renditions_of(self.media, image)
            for copy in copies:
                self.media.publish_public(copy, used_by=media_user(source.id))
            made[image.sha256] = [(public_sha256(c), c.width) for c in copies]
        return made

    def entry_for(
        self, source: ArticleSource, notes: list[Note], renditions: r.Renditions | None = None
    ) -> Entry:
        lead = next((m for m in source.media if m.is_image), None)
        # A new version is approved again: that approval is when the article changed; so is a correction.
        changed = max(source.approved_at, source.published) if source.version > 1 else source.published
        return Entry(
            id=source.id,
            version=source.version,
            path=source.path,
            title=source.title,
            summary=source.summary,
            published=source.published,
            updated=max([changed, *(n.published for n in notes)]),
            unit=source.unit,
            tags=list(source.tags),
            image=r.media_path(lead.sha256) if lead else None,
            image_alt=lead.alt if lead else "",
            media=sorted(
                {m.sha256 for m in source.media}
                | {name for copies in (renditions or {}).values() for name, _ in copies}
            ),
            corrections=len(notes),
        )

    def write(self, content: Content, path: str, url: str, marker: str) -> Entry:
        """Write (or rewrite) the page, its entry keys, and rebuild the indexes it touches.

        A correction first leaves its note and renders the article it corrects again (its notice),
        and writes its own page last: a page found by ``find`` means the notice is there too."""
        self.bootstrap()
        previous = self.current_entry(content.id)
        published = previous.published if previous else (content.publish_at or content.approved_at)
        if previous is not None and previous.path != path:
            # URLs never change: a later title or date keeps the first page's address.
            log.info("keeping the first URL %s of %s", previous.path, content.id)
            path, url = previous.path, self.site.base_url + previous.path
        if previous is not None and previous.version > content.version:
            log.info("skipping stale version %s of %s", content.version, content.id)
            return previous
        self.copy_media(content)
        source = ArticleSource.of(content, url, path, marker, published)
        self.corrections.put_source(source)
        if source.corrects is not None:
            self.corrections.put_note(source.corrects, source.note())
            self.refresh(source.corrects)
        entry, notes = self._settle(content.id, self._inputs(content.id, source), previous)
        assert entry is not None, "its source was written just above"
        if previous is None or previous.title != entry.title:
            for note in notes:  # corrections that came first can link back now, or name the new title
                self.refresh(note.id)
        return entry

    def refresh(self, content_id: str) -> None:
        """Render a published article again from its source (a correction of it came or went);
        nothing for one not on the site (yet), or published before sources were kept."""
        previous = self.current_entry(content_id)
        if previous is None:
            return
        if self._settle(content_id, self._inputs(content_id), previous)[0] is None:
            log.info("no source kept for %s: its page shows corrections from its next version", content_id)

    def _inputs(self, content_id: str, source: ArticleSource | None = None) -> Inputs:
        """Everything an article's page is rendered from (``source``: the one just written)."""
        source = source or self.corrections.source(content_id)
        link = None
        if source is not None and source.corrects is not None:
            corrected = self.current_entry(source.corrects)
            link = r.Link(corrected.path, corrected.title) if corrected else None
        return source, self.corrections.notes_of(content_id), link

    def _settle(
        self, content_id: str, inputs: Inputs, previous: Entry | None
    ) -> tuple[Entry | None, list[Note]]:
        """Render the page from its inputs until they did not change around the write (another
        replica may add a correction or a version meanwhile: the last writer's page holds all).
        The entry written (none if the article is gone) and the notes it shows."""
        entry = None
        for _ in range(MAX_RENDERS):
            source, notes, link = inputs
            if source is None:
                if entry is not None:  # retracted while this page was written: take it down again
                    self._remove(content_id, entry.path)
                return None, []
            entry = self._write_page(source, notes, link, previous)
            again = self._inputs(content_id)
            if again == inputs:
                return entry, notes
            inputs, previous = again, self.current_entry(content_id)  # another writer's, maybe
        log.warning("the inputs of %s kept changing; its next delivery renders it again", content_id)
        return entry, inputs[1]

    def _write_page(
        self, source: ArticleSource, notes: list[Note], link: r.Link | None, previous: Entry | None
    ) -> Entry:
        renditions = self.renditions(source)
        entry = self.entry_for(source, notes, renditions)
        shown = r.Corrections(notes, link, corrects_elsewhere=source.corrects is not None and link is None)
        view = r.article_view(
            source, source.url, source.marker, entry.published, entry.updated, shown, renditions
        )
        page = r.render("article.html", self.site, a=view)
        self.bucket.put(page_key(source.path), page, HTML, ARTICLE_CACHE)
        if previous is None and self.retract_mode == "withdrawn":
            self.bucket.delete(withdrawn_key(source.path))  # a republished URL is live again
        raw = entry.to_json()
        keys = [*entry.index_keys(), record_key(source.id)]
        self.index.put_all([(key, raw, "application/json") for key in keys], cache_control=None)
        for key in entry.index_keys():
            self.index.cache.remember(key, entry)
        if previous is not None:
            self.bucket.delete_many([k for k in previous.index_keys() if k not in set(entry.index_keys())])
            self.release_media(source.id, [sha for sha in previous.media if sha not in entry.media])
        self.index.rebuild(entry.scopes() + (previous.scopes() if previous else []))
        return entry

    def current_entry(self, content_id: str) -> Entry | None:
        raw = self.bucket.get(record_key(content_id))
        return Entry.from_json(raw) if raw else None

    def find(self, path: str, marker: str) -> bool:
        page = self.bucket.get(page_key(path))
        return page is not None and read_marker(page) == marker

    def retract(self, content_id: str, path: str) -> None:
        """Remove the page and every index key; leave a 410 page (or nothing) at the URL. A
        retracted correction's notice leaves the article it corrected."""
        self.bootstrap()
        source = self.corrections.source(content_id)
        self.corrections.delete_source(content_id)
        if self.retract_mode == "withdrawn":
            self.bucket.put(withdrawn_key(path), r.render_status(self.site, 410), HTML, "public, max-age=300")
        self._remove(content_id, path)
        if source is not None and source.corrects is not None:
            self.corrections.delete_note(source.corrects, content_id)
            self.refresh(source.corrects)

    def _remove(self, content_id: str, path: str) -> None:
        self.bucket.delete(page_key(path))
        entry = self.current_entry(content_id)
        if entry is None:
            return
        self.bucket.delete_many(entry.index_keys())
        self.bucket.delete(record_key(content_id))
        self.index.rebuild(entry.scopes())
        self.release_media(content_id, entry.media)

"""Incremental indexes: front pages, tag and unit pages, RSS, Atom, sitemaps, the news sitemap.

Each publish writes its own immutable entry keys, then rebuilds only the indexes the entry is
in, from a listing of the newest N keys of each. Two replicas never lose an entry: after writing
an index, the builder lists again and rebuilds while the listing changed. Whoever writes an
index last has listed after every entry written before its check, and any entry written later
is followed by its own writer's rebuild; so the final page always holds every entry (MinIO lists
with read-after-write consistency). See the README for the longer argument.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice

from loa.text import slugify
from services.website.site import render as r
from services.website.site.bucket import SiteBucket
from services.website.site.entries import MONTHS, Entry, Scope

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
INDEX_CACHE = "public, max-age=60"
MAX_REBUILDS = 8
MAX_SHARDS = 36
# Google's news sitemaps (developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap):
# "only include recent URLs for articles that were created in the last two days", at most 1,000
# <news:news> tags a sitemap.
NEWS_WINDOW = timedelta(days=2)
NEWS_MAX = 1000


def news_entries(entries: list[Entry], now: datetime) -> list[Entry]:
    """The articles a Google News sitemap lists: those first published in the last two days."""
    return [e for e in entries if now - e.published <= NEWS_WINDOW][:NEWS_MAX]


class EntryCache:
    """Entry objects are immutable (versioned keys), so a bounded in-process cache is always right."""

    def __init__(self, bucket: SiteBucket, size: int = 20_000) -> None:
        self.bucket = bucket
        self.size = size
        self._items: OrderedDict[str, Entry] = OrderedDict()

    def remember(self, key: str, entry: Entry) -> None:
        self._items[key] = entry
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def load(self, keys: list[str]) -> list[Entry]:
        """Entries of ``keys`` in order; a key deleted meanwhile is skipped."""
        missing = [k for k in keys if k not in self._items]
        if missing:
            with ThreadPoolExecutor(max_workers=8) as pool:
                for key, raw in zip(missing, pool.map(self.bucket.get, missing), strict=True):
                    if raw is not None:
                        self.remember(key, Entry.from_json(raw))
        return [self._items[k] for k in keys if k in self._items]


class IndexBuilder:
    def __init__(
        self,
        bucket: SiteBucket,
        site: r.SiteInfo,
        page_size: int,
        index_pages: int,
        topic_pages: int,
        feed_size: int,
    ) -> None:
        self.bucket = bucket
        self.site = site
        self.page_size = page_size
        self.index_pages = index_pages
        self.topic_pages = topic_pages
        self.feed_size = feed_size
        self.cache = EntryCache(bucket)
        self._scopes = ThreadPoolExecutor(max_workers=8, thread_name_prefix="index-scope")
        self._io = ThreadPoolExecutor(max_workers=16, thread_name_prefix="index-io")

    def put_all(self, writes: list[tuple[str, bytes, str]], cache_control: str | None = INDEX_CACHE) -> None:
        """Write objects in parallel (MinIO answers requests concurrently; latency dominates)."""
        for future in [
            self._io.submit(self.bucket.put, k, data, ct, cache_control) for k, data, ct in writes
        ]:
            future.result()

    def rebuild(self, scopes: list[Scope]) -> None:
        """Rebuild the indexes (in parallel), each until its listing is stable around the write."""
        for future in [self._scopes.submit(self._rebuild_one, scope) for scope in dict.fromkeys(scopes)]:
            future.result()

    def _rebuild_one(self, scope: Scope) -> None:
        limit = self._limit(scope)
        keys = self._list(scope, limit)
        for _ in range(MAX_REBUILDS):
            self._write(scope, keys)
            again = self._list(scope, limit)
            if again == keys:
                return
            log.info("index %s changed while rebuilding; rebuilding again", scope.prefix)
            keys = again
        log.warning("index %s kept changing; the next publish rebuilds it", scope.prefix)

    def _limit(self, scope: Scope) -> int:
        if scope.kind == "all":
            return max(self.page_size * self.index_pages, self.feed_size)
        if scope.kind == "month":
            return 50_000  # the sitemap protocol's limit per file
        return self.page_size * self.topic_pages

    def _list(self, scope: Scope, limit: int) -> list[str]:
        if scope.kind == "month":
            # The sitemap needs every URL of the month and its date: the listing gives both.
            rows = (
                f"{o.key}\t{o.last_modified.isoformat() if o.last_modified else ''}"
                for o in self.bucket.iter_objects(scope.prefix)
            )
            return list(islice(rows, limit))
        keys: list[str] = []
        # Newest month first; a sparse tag's pages reach back at most MAX_SHARDS months.
        for shard in self.bucket.child_prefixes(scope.prefix)[:MAX_SHARDS]:
            keys += self.bucket.first_keys(shard, limit - len(keys))
            if len(keys) >= limit:
                break
        return keys

    def _write(self, scope: Scope, keys: list[str]) -> None:
        if scope.kind == "month":
            self._write_sitemap(scope, keys)
            return
        entries = self.cache.load(keys)
        if scope.kind == "all":
            self._write_pages(entries, "", "", self.index_pages)
            feed = entries[: self.feed_size]
            now = datetime.now(UTC)
            self.put_all(
                [
                    (
                        "rss.xml",
                        r.render("rss.xml", self.site, entries=feed),
                        "application/rss+xml; charset=utf-8",
                    ),
                    (
                        "atom.xml",
                        r.render("atom.xml", self.site, entries=feed, now=now),
                        "application/atom+xml; charset=utf-8",
                    ),
                    (
                        "news-sitemap.xml",
                        r.render("news-sitemap.xml", self.site, entries=news_entries(entries, now)),
                        XML,
                    ),
                ]
            )
            return
        folder = "chu-de" if scope.kind == "tag" else "don-vi"
        heading = scope.label or self._label(scope, entries)
        self._write_pages(entries, f"{folder}/{scope.slug}/", heading, self.topic_pages)

    @staticmethod
    def _label(scope: Scope, entries: list[Entry]) -> str:
        for e in entries:
            for name in e.tags if scope.kind == "tag" else [e.unit]:
                if slugify(name) == scope.slug:
                    return name
        return scope.slug

    def _write_pages(self, entries: list[Entry], folder: str, heading: str, max_pages: int) -> None:
        pages = max(1, min(max_pages, math.ceil(len(entries) / self.page_size)))

        def page_url(n: int) -> str:
            return f"/{folder}" if n == 1 else f"/{folder}trang-{n}.html"

        writes = []
        for n in range(1, pages + 1):
            chunk = entries[(n - 1) * self.page_size : n * self.page_size]
            html = r.render_listing(self.site, chunk, n, pages, heading, page_url(n), page_url)
            writes.append((f"{folder}index.html" if n == 1 else f"{folder}trang-{n}.html", html, HTML))
        self.put_all(writes)
        stale = [f"{folder}trang-{n}.html" for n in range(pages + 1, max_pages + 1)]
        if stale:
            self.bucket.delete_many(stale)

    def _write_sitemap(self, scope: Scope, rows: list[str]) -> None:
        urls = []
        for row in rows:
            key, _, stamp = row.partition("\t")
            name = key.rsplit("/", 1)[-1]
            lastmod = datetime.fromisoformat(stamp) if stamp else None
            urls.append({"path": f"/{scope.slug}/{name}", "lastmod": lastmod})
        months = sorted(
            {
                p.removeprefix(MONTHS).strip("/").replace("/", "-")
                for year in self.bucket.child_prefixes(MONTHS)
                for p in self.bucket.child_prefixes(year)
            },
            reverse=True,
        )
        self.put_all(
            [
                (
                    f"sitemaps/{scope.slug.replace('/', '-')}.xml",
                    r.render("sitemap.xml", self.site, urls=urls),
                    XML,
                ),
                ("sitemap.xml", r.render("sitemap_index.xml", self.site, months=months), XML),
            ]
        )

"""Page views of the articles, counted by the website server itself: no cookie, no script, no
third-party tracker, no address kept.

What counts (``counts_as_view``, the one owner of the rule): a ``GET`` of an article page
(``/<yyyy>/<mm>/<name>.html``) answered ``200`` or ``304`` to a browser. ``304`` counts: it is a
reader's browser showing the page again from its cache after the page's 60 s ``max-age`` (a
reload, a return visit), the way AWStats counts a page (its ``ValidHTTPCodes`` default is
``"200 304"``, awstats.model.conf). ``HEAD`` never counts: no one is shown a page (link checkers,
previewers and monitors use it). ``206`` (a byte range) does not: browsers ask an HTML page whole.
A browser is a ``User-Agent`` that starts with ``Mozilla/`` (every browser's since Netscape; RFC 9110
§10.1.5 leaves the value free) and holds none of ``BOT_WORDS``: against the 2,116 example agents of
monperrus/crawler-user-agents (commit 7c7f9f2, July 2026) the rule excludes 2,060; the rest
present themselves as ordinary browsers. Zalo's, Facebook's and LinkedIn's in-app browsers and
Cốc Cốc count.

Where the counts live: each server process (replica) counts in memory and, every
``LOA_WEBSITE_VIEWS_FLUSH_S``, writes one small object per page viewed since its last write,
``page-views/<page key>/<replica id>``, holding that replica's total for the page. Only its own
replica writes an object, so replicas never race (no locks, no conditional writes); a restarted
process is a new replica and starts a new object, the old one keeps its count. The total of a page
is the sum of its objects (one listing). They are in the private media bucket: the website bucket
is public-read, and the counts are not public (read them through ``GET /_api/v1/views``).
A process killed without stopping loses at most its last interval; a stop writes first.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime

from services.website.site.bucket import SiteBucket

PREFIX = "page-views/"
ARTICLE_KEY = re.compile(r"^\d{4}/\d{2}/[^/]+\.html$")
"""An article page's key (``loa.links.article_path`` without the leading slash)."""
COUNTED_STATUSES = frozenset({200, 304})
BOT_WORDS = (
    "bot", "crawl", "spider", "slurp", "scrap", "fetch", "preview", "externalhit", "monitor",
    "checker", "http", "python", "curl", "wget", "java", "headless", "lighthouse", "archiv",
    "validator", "compatible", "synthetic", "inspect", "survey", "scan", "audit", "playwright",
    "selenium", "phantomjs", "pingdom", "uptime", "feed", "proxy",
)  # fmt: skip
"""Lower-case pieces of the agents that are not people reading: ``bot`` (Googlebot, bingbot,
coccocbot, Zalo's and Facebook's link previewers), tools (``curl``, ``python-httpx``,
``Go-http-client``) and ``(compatible; …)``, the form crawlers use now that no browser does."""


def is_bot(user_agent: str | None) -> bool:
    """Whether a request's ``User-Agent`` is not a person's browser (see the module's rule)."""
    agent = (user_agent or "").strip().lower()
    return not agent.startswith("mozilla/") or any(word in agent for word in BOT_WORDS)


def is_article(key: str) -> bool:
    return ARTICLE_KEY.match(key) is not None


def counts_as_view(method: str, status: int, key: str, user_agent: str | None) -> bool:
    """The one rule of what the server counts as a view of an article page."""
    return method == "GET" and status in COUNTED_STATUSES and is_article(key) and not is_bot(user_agent)


def key_of_path(path: str) -> str | None:
    """The article page's key of a URL path (``/2026/12/x.html`` → ``2026/12/x.html``), or None."""
    key = path.removeprefix("/")
    return key if path.startswith("/") and is_article(key) else None


class PageViews:
    """This replica's counts (in memory) and every replica's (in the bucket). Blocking calls:
    ``flush`` and ``total`` run in a worker thread; ``hit`` is a dictionary update."""

    def __init__(self, bucket: SiteBucket, replica: str | None = None) -> None:
        self.bucket = bucket
        self.replica = replica or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self._counts: dict[str, int] = {}
        self._unwritten: set[str] = set()
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._unwritten.add(key)

    def flush(self) -> int:
        """Write this replica's total of every page viewed since the last flush; returns how many."""
        with self._lock:
            due = {key: self._counts[key] for key in self._unwritten}
            self._unwritten.clear()
        written = 0
        try:
            for key, views in due.items():
                body = json.dumps({"views": views}).encode()
                self.bucket.put(self._object(key, self.replica), body, "application/json")
                written += 1
        finally:
            if written < len(due):  # the store failed: the rest is written at the next flush
                with self._lock:
                    self._unwritten.update(list(due)[written:])
        return written

    def total(self, key: str) -> int:
        """Every replica's views of the page: the other replicas' objects and this one's memory."""
        total = 0
        for found in self.bucket.iter_objects(f"{PREFIX}{key}/"):
            if found.key.rsplit("/", 1)[-1] == self.replica:
                continue
            body = self.bucket.get(found.key)
            total += int(json.loads(body)["views"]) if body else 0
        with self._lock:
            return total + self._counts.get(key, 0)

    @staticmethod
    def _object(key: str, replica: str) -> str:
        return f"{PREFIX}{key}/{replica}"

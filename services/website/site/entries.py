"""Index entries: one small JSON record per article, and the sortable keys that list them.

The listing of keys is the index: S3 lists keys in lexicographic order, so a key that starts
with an inverted timestamp lists newest first, and the newest N entries cost one list request.
Entry objects are immutable (their key carries the version), so any process may cache them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from loa.events import DEFAULT_TIMEZONE
from loa.text import slugify

ROOT = "_index/"
RECORDS = ROOT + "entries/"
ALL = ROOT + "all/"
TAGS = ROOT + "tag/"
UNITS = ROOT + "unit/"
MONTHS = ROOT + "month/"
WITHDRAWN = "_withdrawn/"
INTERNAL_PREFIXES = (ROOT, WITHDRAWN)
_INVERT_FROM = 10**11


@dataclass(frozen=True)
class Entry:
    """What an index page, a feed and the sitemap need to know about one article."""

    id: str
    version: int
    path: str
    """``/2026/11/slug-shortid.html``"""
    title: str
    summary: str
    published: datetime
    updated: datetime
    unit: str
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    """Site path of the lead image (``/media/<sha256>``)."""
    image_alt: str = ""
    media: list[str] = field(default_factory=list)
    """The sha256 of every media the article shows (entries written before it have none)."""
    corrections: int = 0
    """How many corrections the page shows: part of the key, so a corrected entry is a new object."""

    @property
    def sort_name(self) -> str:
        """Newest first in key order; ties broken by id; the version makes the key immutable."""
        inverted = _INVERT_FROM - int(self.published.timestamp())
        corrected = f"-c{self.corrections}" if self.corrections else ""
        return f"{inverted:011d}-{self.id}-v{self.version}{corrected}.json"

    @property
    def unit_slug(self) -> str:
        return slugify(self.unit)

    @property
    def tag_slugs(self) -> list[str]:
        return sorted({slugify(t) for t in self.tags})

    @property
    def month(self) -> str:
        """``2026/11`` from the path (the URL's own month, never recomputed)."""
        return "/".join(self.path.strip("/").split("/")[:2])

    def scopes(self) -> list[Scope]:
        """Every index this entry appears in."""
        return [
            Scope("all"),
            Scope("unit", self.unit_slug, self.unit),
            *(Scope("tag", slugify(t), t) for t in sorted(set(self.tags), key=slugify)),
            Scope("month", self.month),
        ]

    def index_keys(self) -> list[str]:
        """The keys that list this entry (the record under ``entries/`` aside)."""
        return [scope.key_for(self) for scope in self.scopes()]

    def to_json(self) -> bytes:
        data = asdict(self)
        data["published"] = self.published.isoformat()
        data["updated"] = self.updated.isoformat()
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Entry:
        data = json.loads(raw)
        data["published"] = datetime.fromisoformat(data["published"])
        data["updated"] = datetime.fromisoformat(data["updated"])
        return cls(**data)


@dataclass(frozen=True)
class Scope:
    """One index: the front page (``all``), a tag, a unit, or a month of the sitemap."""

    kind: str
    slug: str = ""
    label: str = ""

    @property
    def prefix(self) -> str:
        if self.kind == "all":
            return ALL
        if self.kind == "tag":
            return f"{TAGS}{self.slug}/"
        if self.kind == "unit":
            return f"{UNITS}{self.slug}/"
        if self.kind == "month":
            return f"{MONTHS}{self.slug}/"
        raise ValueError(f"unknown index kind {self.kind!r}")

    def key_for(self, entry: Entry) -> str:
        if self.kind == "month":
            # The sitemap needs only the URL: the key carries it, so listing is enough.
            return self.prefix + entry.path.rsplit("/", 1)[-1]
        return f"{self.prefix}{self.shard(entry)}/{entry.sort_name}"

    def shard(self, entry: Entry) -> str:
        """An inverted month, so folders list newest first and none grows with the whole site.

        MinIO lists a prefix by walking its folder, so a listing costs as much as the folder
        holds: one flat folder of every article would make each publish slower than the last.
        """
        local = entry.published.astimezone(DEFAULT_TIMEZONE)
        return f"{999_999 - (local.year * 100 + local.month):06d}"


def record_key(content_id: str) -> str:
    return f"{RECORDS}{content_id}.json"


def page_key(path: str) -> str:
    """Bucket key of a site path (``/2026/11/x.html`` → ``2026/11/x.html``)."""
    return path.lstrip("/")


def withdrawn_key(path: str) -> str:
    return WITHDRAWN + page_key(path)

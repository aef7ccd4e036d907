"""Corrections ("Đính chính") on the static site: what an article needs to show them, kept beside
its page in the public bucket.

- A **note** per correction, ``_index/corrections/<corrected id>/<correction id>.json``: the
  correction's path, title, summary and date. The corrected article's page shows one dated notice
  per note at its top, and its index entry takes the newest note's date as ``updated`` (feeds,
  sitemap).
- A **source** per article, ``_index/sources/<id>.json``: the public part of the content the page
  was rendered from (what the page shows anyway, never who approved it or the accounts), so an
  article can be rendered again when a correction of it arrives, by whichever replica delivers
  the correction, without the original's job.

Every write is a put of the same bytes for the same input, so a retried delivery changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from loa.events import Content, ContentKind, MediaRef
from services.website.site.bucket import SiteBucket
from services.website.site.entries import ROOT

NOTES = ROOT + "corrections/"
SOURCES = ROOT + "sources/"
JSON = "application/json"


@dataclass(frozen=True)
class Note:
    """A correction as the article it corrects links to it."""

    id: str
    path: str
    title: str
    summary: str
    published: datetime

    def to_json(self) -> bytes:
        data = asdict(self) | {"published": self.published.isoformat()}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Note:
        data = json.loads(raw)
        return cls(**data | {"published": datetime.fromisoformat(data["published"])})


class ArticleSource(BaseModel):
    """What an article page is rendered from: the content's public fields, its URL and marker."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: int
    title: str
    summary: str
    body: str
    unit: str
    tags: list[str]
    media: Annotated[list[MediaRef], Field(default_factory=list)]
    kind: ContentKind
    corrects: str | None
    url: str
    path: str
    marker: str
    published: datetime
    approved_at: datetime

    @classmethod
    def of(cls, content: Content, url: str, path: str, marker: str, published: datetime) -> ArticleSource:
        return cls(
            id=content.id,
            version=content.version,
            title=content.title,
            summary=content.summary,
            body=content.body,
            unit=content.unit,
            tags=list(content.tags),
            media=list(content.media),
            kind=content.kind,
            corrects=content.corrects,
            url=url,
            path=path,
            marker=marker,
            published=published,
            approved_at=content.approved_at,
        )

    def note(self) -> Note:
        return Note(self.id, self.path, self.title, self.summary, self.published)


def note_key(corrected_id: str, correction_id: str) -> str:
    return f"{NOTES}{corrected_id}/{correction_id}.json"


def source_key(content_id: str) -> str:
    return f"{SOURCES}{content_id}.json"


class Corrections:
    """Notes and sources in the site's bucket (blocking: call from a thread)."""

    def __init__(self, bucket: SiteBucket) -> None:
        self.bucket = bucket

    def notes_of(self, corrected_id: str) -> list[Note]:
        """The corrections of an article, oldest first."""
        keys = [o.key for o in self.bucket.iter_objects(f"{NOTES}{corrected_id}/")]
        notes = [Note.from_json(raw) for raw in map(self.bucket.get, keys) if raw is not None]
        return sorted(notes, key=lambda n: (n.published, n.id))

    def put_note(self, corrected_id: str, note: Note) -> None:
        self.bucket.put(note_key(corrected_id, note.id), note.to_json(), JSON)

    def delete_note(self, corrected_id: str, correction_id: str) -> None:
        self.bucket.delete(note_key(corrected_id, correction_id))

    def source(self, content_id: str) -> ArticleSource | None:
        raw = self.bucket.get(source_key(content_id))
        return ArticleSource.model_validate_json(raw) if raw else None

    def put_source(self, source: ArticleSource) -> None:
        self.bucket.put(source_key(source.id), source.model_dump_json().encode(), JSON)

    def delete_source(self, content_id: str) -> None:
        self.bucket.delete(source_key(content_id))

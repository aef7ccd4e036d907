"""A Markdown article with YAML front matter → the ingest API's submission.

Front matter: ``title``, ``summary``, ``unit``, ``tags``, ``kind``, ``channels`` (a list of
``channel:account`` strings or ``{channel, account, title, text, options}`` mappings, or a
mapping ``channel: account | [accounts]``), ``publish_at`` (a time without a zone means
Asia/Ho_Chi_Minh), ``media`` (``path`` relative to the article, ``alt``, ``caption``), and
optionally ``id`` (default: the file name's slug), ``version`` (default 1), ``approver_claim``
(``approved_by`` is read as it: who approved is the account the ingest authenticates, and the name
typed here travels as a claim), ``language``, ``canonical_url``. The body is Markdown, converted to HTML.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from loa.events import DEFAULT_TIMEZONE
from loa.html import markdown_to_html
from loa.text import nfc, slugify

FRONT_MATTER_FIELDS = frozenset(
    {"id", "version", "title", "summary", "unit", "tags", "kind", "channels", "publish_at", "media"}
    | {"approved_by", "approver_claim", "language", "canonical_url"}
)
HASH_CHUNK = 1024 * 1024


class ArticleError(ValueError):
    """The article file cannot be read as a Loa article (says which part and why)."""


@dataclass(frozen=True)
class MediaFile:
    path: Path
    alt: str = ""
    caption: str = ""

    @property
    def content_type(self) -> str:
        guessed, _ = mimetypes.guess_type(self.path.name)
        return guessed or "application/octet-stream"

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as f:
            while chunk := f.read(HASH_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass(frozen=True)
class Article:
    payload: dict[str, Any]
    """The content without its ``media`` (added once they are uploaded)."""
    media: list[MediaFile] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        raise ArticleError("the article must start with YAML front matter between '---' lines")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ArticleError("the front matter has no closing '---' line")
    head = parts[0].removeprefix("---")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as e:
        raise ArticleError(f"front matter is not valid YAML: {e}") from e
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping")
    return meta, body


def parse_targets(channels: Any) -> list[dict[str, Any]]:
    """``["website:main", {"channel": "x", "account": "a"}]`` or ``{"x": ["a", "b"]}`` → targets."""
    targets: list[dict[str, Any]] = []
    if isinstance(channels, dict):
        for channel, accounts in channels.items():
            for account in accounts if isinstance(accounts, list) else [accounts]:
                if isinstance(account, dict):
                    targets.append({"channel": channel, **account})
                else:
                    targets.append({"channel": channel, "account": str(account)})
        return targets
    if not isinstance(channels, list):
        raise ArticleError("channels: a list of 'channel:account' or a mapping channel → account(s)")
    for item in channels:
        if isinstance(item, dict):
            targets.append(dict(item))
        elif isinstance(item, str) and ":" in item:
            channel, account = item.split(":", 1)
            targets.append({"channel": channel.strip(), "account": account.strip()})
        else:
            raise ArticleError(f"channels: {item!r} is not 'channel:account'")
    return targets


def zoned(value: Any) -> str:
    """A time people wrote: without a zone it means Asia/Ho_Chi_Minh."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    else:
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError as e:
            raise ArticleError(f"publish_at: {value!r} is not a date and time") from e
    if when.tzinfo is None:
        when = when.replace(tzinfo=DEFAULT_TIMEZONE)
    return when.isoformat()


def load_article(path: Path) -> Article:
    try:
        text = nfc(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ArticleError(f"cannot read {path}: {e}") from e
    meta, body = split_front_matter(text)
    unknown = set(meta) - FRONT_MATTER_FIELDS
    if unknown:
        raise ArticleError(f"unknown front matter fields: {', '.join(sorted(unknown))}")
    payload: dict[str, Any] = {k: v for k, v in meta.items() if k not in {"channels", "media", "publish_at"}}
    if "approved_by" in payload:
        payload.setdefault("approver_claim", payload.pop("approved_by"))
    payload.setdefault("id", slugify(path.stem))
    payload.setdefault("version", 1)
    payload["body"] = markdown_to_html(body)
    payload["targets"] = parse_targets(meta.get("channels", []))
    if meta.get("publish_at") is not None:
        payload["publish_at"] = zoned(meta["publish_at"])
    media = []
    for i, item in enumerate(meta.get("media") or []):
        entry = {"path": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or "path" not in entry:
            raise ArticleError(f"media.{i}: needs a path")
        file = (path.parent / str(entry["path"])).resolve()
        if not file.is_file():
            raise ArticleError(f"media.{i}: {entry['path']} does not exist next to the article")
        media.append(MediaFile(file, str(entry.get("alt", "")), str(entry.get("caption", ""))))
    return Article(payload, media)

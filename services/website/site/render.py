"""Jinja2 rendering (autoescape on): article pages, listings, feeds, sitemaps, status pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from loa.events import DEFAULT_TIMEZONE, MediaRef
from loa.html import clean
from loa.media import public_media_key
from loa.text import slugify
from services.website.site.corrections import Note

HERE = Path(__file__).parent
STYLESHEET = (HERE / "static" / "style.css").read_bytes()
STYLESHEET_PATH = f"/assets/style.{hashlib.sha256(STYLESHEET).hexdigest()[:10]}.css"
"""Fingerprinted, so it can be cached for ever."""

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
_MEDIA_SRC = re.compile(r'(src|href)="loa-media:sha256/([0-9a-f]{64})"')


def vi_date(when: datetime) -> str:
    """``Thứ Năm, 26/11/2026 14:30`` in Asia/Ho_Chi_Minh."""
    local = when.astimezone(DEFAULT_TIMEZONE)
    return f"{WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y %H:%M}"


def iso(when: datetime) -> str:
    return when.astimezone(DEFAULT_TIMEZONE).isoformat(timespec="seconds")


def rfc822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(vi_date=vi_date, iso=iso, rfc822=rfc822, day=day)
    # ``tojson`` (the JSON-LD) escapes <, >, & and ' for a <script>; Vietnamese stays readable.
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    env.globals["news_article"] = news_article
    return env


@dataclass(frozen=True)
class SiteInfo:
    name: str
    description: str
    base_url: str
    stylesheet: str = STYLESHEET_PATH


def media_path(sha256: str) -> str:
    """Where a media object is copied in the public bucket (no presigned secrets in pages)."""
    return "/" + public_media_key(sha256)


def tag_path(tag: str) -> str:
    return f"/chu-de/{slugify(tag)}/"


def unit_path(unit: str) -> str:
    return f"/don-vi/{slugify(unit)}/"


@dataclass
class ImageView:
    src: str
    srcset: str
    alt: str
    caption: str
    width: int | None
    height: int | None


Renditions = dict[str, list[tuple[str, int]]]
"""The narrower copies of each image by the original's sha256: their public name and width
(``site/renditions.py``)."""


def image_view(ref: MediaRef, renditions: Renditions | None = None) -> ImageView:
    """The image, with every copy of it in ``srcset`` by width (the original last)."""
    src = media_path(ref.sha256)
    if not ref.width:
        return ImageView(src, src, ref.alt, ref.caption, ref.width, ref.height)
    copies = [(name, w) for name, w in (renditions or {}).get(ref.sha256, []) if 0 < w < ref.width]
    srcset = ", ".join(f"{media_path(name)} {w}w" for name, w in [*copies, (ref.sha256, ref.width)])
    return ImageView(src, srcset, ref.alt, ref.caption, ref.width, ref.height)


class Renderable(Protocol):
    """What a page is rendered from: a content, or the article's stored source (``corrections``)."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def media(self) -> list[MediaRef]: ...


@dataclass(frozen=True)
class Link:
    """An article another one links to: where and under which title."""

    path: str
    title: str


@dataclass(frozen=True)
class Corrections:
    """The corrections an article shows: notices at its top, or the one it corrects.

    ``corrects_elsewhere`` is a correction whose original is not on this site (not yet published
    here, or never meant for the website): the page says so instead of linking."""

    notices: list[Note] = field(default_factory=list)
    corrects: Link | None = None
    corrects_elsewhere: bool = False


def day(when: datetime) -> str:
    """``26/11/2026`` in Asia/Ho_Chi_Minh (the date of a correction notice)."""
    return f"{when.astimezone(DEFAULT_TIMEZONE):%d/%m/%Y}"


def safe_body(content: Renderable) -> tuple[Markup, set[str]]:
    """Sanitise the body again (defence in depth) and point ``loa-media:`` links at public media.

    Returns the HTML and the media hashes the body shows inline (left out of the gallery).
    A ``loa-media:`` reference to a media the content does not carry is dropped.
    """
    known = {m.sha256 for m in content.media}
    used: set[str] = set()

    def relink(match: re.Match[str]) -> str:
        attr, sha = match.group(1), match.group(2)
        if sha not in known:
            return f'{attr}=""'
        used.add(sha)
        return f'{attr}="{media_path(sha)}"'

    html = _MEDIA_SRC.sub(relink, clean(content.body))
    return Markup(clean(html)), used  # noqa: S704 - nh3 allow-list output, cleaned twice


@dataclass
class ArticleView:
    """Everything the article template shows."""

    title: str
    summary: str
    url: str
    marker: str
    version: int
    published: datetime
    updated: datetime
    unit: str
    unit_url: str
    tags: list[dict[str, str]]
    body: Markup
    lead: ImageView | None
    gallery: list[ImageView] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    corrections: Corrections = field(default_factory=Corrections)


def article_view(
    content: Renderable,
    url: str,
    marker: str,
    published: datetime,
    updated: datetime,
    corrections: Corrections | None = None,
    renditions: Renditions | None = None,
) -> ArticleView:
    body, inline = safe_body(content)
    images = [m for m in content.media if m.is_image]
    lead = next((m for m in images if m.sha256 not in inline), None)
    gallery = [image_view(m, renditions) for m in images if m is not lead and m.sha256 not in inline]
    poster = media_path(images[0].sha256) if images else None
    videos = [
        {
            "src": media_path(m.sha256),
            "type": m.content_type,
            "poster": poster,
            "caption": m.caption or m.alt,
            "width": m.width,
            "height": m.height,
        }
        for m in content.media
        if m.is_video
    ]
    return ArticleView(
        title=content.title,
        summary=content.summary,
        url=url,
        marker=marker,
        version=content.version,
        published=published,
        updated=updated,
        unit=content.unit,
        unit_url=unit_path(content.unit),
        tags=[{"name": t, "url": tag_path(t)} for t in content.tags],
        body=body,
        lead=image_view(lead, renditions) if lead else None,
        gallery=gallery,
        videos=videos,
        corrections=corrections or Corrections(),
    )


def news_article(a: ArticleView, site: SiteInfo) -> dict[str, Any]:
    """The article as schema.org ``NewsArticle`` JSON-LD. Google's Article structured data
    (developers.google.com/search/docs/appearance/structured-data/article) requires no property and
    recommends headline, image, datePublished, dateModified, author (name, url); the office that
    wrote it is the author, the site is the publisher."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": a.url,
        "url": a.url,
        "headline": a.title,
        "description": a.summary,
        "inLanguage": "vi",
        "datePublished": iso(a.published),
        "dateModified": iso(a.updated),
        "author": [{"@type": "GovernmentOrganization", "name": a.unit, "url": site.base_url + a.unit_url}],
        "publisher": {"@type": "GovernmentOrganization", "name": site.name, "url": site.base_url + "/"},
        "keywords": [t["name"] for t in a.tags],
    }
    images = [i for i in [a.lead, *a.gallery] if i is not None]
    if images:
        data["image"] = [site.base_url + i.src for i in images]
    return data


def render(template: str, site: SiteInfo, **context: Any) -> bytes:
    return environment().get_template(template).render(site=site, **context).encode("utf-8")


def correction_notice(note: Note, anchor: str) -> str:
    """The dated notice of one correction (``correction_notice.html``), as an article page shows it
    at its top; ``note.path`` is where it links (a page of this site, or the correction's post on
    WordPress), ``anchor`` its element id."""
    return environment().get_template("correction_notice.html").render(n=note, anchor=anchor)


def corrects_line(corrections: Corrections) -> str:
    """What a correction says of the article it corrects (``corrects.html``): "Bài này đính chính:
    <its title, linked>", or that it corrects something published before; "" for other articles."""
    return environment().get_template("corrects.html").render(c=corrections)


def render_listing(
    site: SiteInfo,
    entries: list[Any],
    page: int,
    pages: int,
    heading: str,
    self_url: str,
    page_url: Callable[[int], str],
) -> bytes:
    return render(
        "listing.html",
        site,
        entries=entries,
        page=page,
        pages=pages,
        heading=heading,
        self_url=self_url,
        page_url=page_url,
    )


def render_status(site: SiteInfo, code: int) -> bytes:
    texts = {
        404: ("Không tìm thấy trang", "Địa chỉ bạn truy cập không tồn tại hoặc đã được chuyển đi."),
        410: (
            "Bài viết đã được gỡ bỏ",
            "Bài viết này đã được cơ quan chủ quản gỡ bỏ và không còn được cung cấp.",
        ),
        503: (
            "Trang tạm thời gián đoạn",
            "Hệ thống lưu trữ của trang đang tạm gián đoạn. Xin vui lòng quay lại sau ít phút.",
        ),
    }
    heading, message = texts[code]
    return render("status.html", site, code=code, heading=heading, message=message)

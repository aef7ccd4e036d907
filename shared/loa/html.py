"""Body HTML: an allow-list sanitiser (nh3) and Markdown conversion."""

from __future__ import annotations

import re

import markdown as md
import nh3

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "em",
        "figcaption",
        "figure",
        "h2",
        "h3",
        "h4",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "loa-media"})
"""``loa-media:sha256/<hex>`` refers to a media object of the content itself."""

_DANGEROUS = re.compile(
    r"<\s*(script|iframe|object|embed|style|svg|math|form|base|meta|link)\b"
    r"|\son[a-z]+\s*="
    r"|(?:java|vb)script\s*:"
    r"|expression\s*\(",
    re.IGNORECASE,
)


class UnsafeMarkupError(ValueError):
    """The body carries executable markup; it is refused rather than silently altered."""


def find_unsafe_markup(html: str) -> str | None:
    """The first executable construct in ``html`` (e.g. ``<script``), or None."""
    found = _DANGEROUS.search(html)
    return found.group(0).strip() if found else None


def sanitize_body(html: str) -> str:
    """Refuse executable markup, then keep only the allow-list (defence in depth)."""
    unsafe = find_unsafe_markup(html)
    if unsafe is not None:
        raise UnsafeMarkupError(f"body contains executable markup: {unsafe!r}")
    return clean(html)


def clean(html: str) -> str:
    """Keep only allowed tags, attributes and URL schemes; never raises."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


def markdown_to_html(text: str) -> str:
    """Convert Markdown to HTML (then sanitised by the content model)."""
    html: str = md.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return html

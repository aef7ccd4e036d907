"""Body HTML: an allow-list sanitiser (nh3) and Markdown conversion."""

from __future__ import annotations

import re
from html.parser import HTMLParser

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

EXECUTABLE_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "svg", "math"}
    | {"form", "base", "meta", "link"}
)
"""Elements that run code, load documents or restyle the page: refused in a body."""
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "background", "poster", "xlink:href", "srcset"}
    | {"cite", "longdesc", "lowsrc", "dynsrc", "codebase", "ping", "manifest", "icon"}
)
_SCRIPT_URL = re.compile(r"^(?:java|vb)script:", re.IGNORECASE)
_SCRIPT_IN_STYLE = re.compile(r"(?:java|vb)script:|expression\(", re.IGNORECASE)
# Browsers drop ASCII tab and newlines anywhere in a URL and C0 controls and spaces around it
# (WHATWG URL Standard, "basic URL parser"), so ``jav&#x09;ascript:`` is still a script URL.
_URL_IGNORED = re.compile(r"[\x00-\x20]")


class _MarkupScanner(HTMLParser):
    """Walks tags and attributes only: text between tags is prose and never looked at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is None:
            self.found = _executable(tag, attrs)


def _executable(tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
    if tag in EXECUTABLE_TAGS:
        return f"<{tag}"
    for name, value in attrs:
        if name.startswith("on"):
            return f"{name}="
        text = value or ""
        if name in URL_ATTRIBUTES and _SCRIPT_URL.match(_URL_IGNORED.sub("", text)):
            return f'{name}="{text.strip()[:40]}"'
        if name == "style" and _SCRIPT_IN_STYLE.search(_URL_IGNORED.sub("", text)):
            return f'style="{text.strip()[:40]}"'
    return None


class UnsafeMarkupError(ValueError):
    """The body carries executable markup; it is refused rather than silently altered."""


def find_unsafe_markup(html: str) -> str | None:
    """The first executable construct among the tags of ``html`` (e.g. ``<script``), or None.

    Only markup counts: "Khóa học JavaScript: cơ bản" or "online = 40%" in the text is prose.
    The check reads tags the way Python's HTML parser does; ``clean`` (html5ever) stays the guard
    for whatever a browser would parse differently.
    """
    scanner = _MarkupScanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found


def sanitize_body(html: str) -> str:
    """Refuse executable markup, then keep only the allow-list (defence in depth)."""
    unsafe = find_unsafe_markup(html)
    if unsafe is not None:
        raise UnsafeMarkupError(f"body contains executable markup: {unsafe!r}")
    return clean(html)


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer",
)
"""The allow-list, built once: ``nh3.clean`` builds its sanitiser again on every call, 7x the cost
of cleaning a short body with this one (31 µs against 4 µs; every service parses every content event,
the tracker spent 5 % of its CPU there: issue #20, docs/benchmarks.md "Session 35")."""


def clean(html: str) -> str:
    """Keep only allowed tags, attributes and URL schemes; never raises."""
    return _CLEANER.clean(html)


def markdown_to_html(text: str) -> str:
    """Convert Markdown to HTML (then sanitised by the content model). Only ``loa article`` does:
    every service imports this module for ``sanitize_body``, and Markdown stays out of their memory."""
    import markdown as md

    html: str = md.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return html

"""Content HTML → Zalo article body items (``text``, ``image`` with caption, ``video``)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

BLOCKS = frozenset({"p", "h2", "h3", "h4", "li", "blockquote", "pre", "figcaption", "td", "th"})


class _Items(HTMLParser):
    def __init__(self, image_url: Any) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict[str, Any]] = []
        self.text: list[str] = []
        self.image_url = image_url

    def flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.items.append({"type": "text", "content": text})
        self.text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS or tag == "br":
            self.flush()
        if tag == "img":
            found = dict(attrs)
            url = self.image_url(found.get("src") or "")
            if url:
                self.flush()
                self.items.append({"type": "image", "url": url, "caption": found.get("alt") or ""})

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def to_items(html: str, image_url: Any) -> list[dict[str, Any]]:
    """``image_url(src)`` turns an ``<img src>`` into a public URL, or None to drop the image."""
    parser = _Items(image_url)
    parser.feed(html)
    parser.close()
    parser.flush()
    return parser.items

"""Canonical website URLs, known before the website publishes, so every channel can link to them."""

from __future__ import annotations

import re

from loa.events import DEFAULT_TIMEZONE, Content
from loa.events.delivery import WEB_LINK_PATTERN
from loa.text import slugify

SHORT_ID_LENGTH = 8


def short_id(content_id: str) -> str:
    """The last characters of the content id that make a URL unique."""
    cleaned = "".join(ch for ch in content_id.lower() if ch.isalnum())
    return cleaned[-SHORT_ID_LENGTH:] or "0"


def article_path(content: Content) -> str:
    """``/<yyyy>/<mm>/<slug>-<short id>.html`` from the content (zone Asia/Ho_Chi_Minh)."""
    when = (content.publish_at or content.approved_at).astimezone(DEFAULT_TIMEZONE)
    return f"/{when:%Y}/{when:%m}/{slugify(content.title)}-{short_id(content.id)}.html"


def canonical_url(content: Content, base_url: str) -> str:
    """The content's own ``canonical_url`` if it carries one, else the website's article URL.

    URLs never change: the ingest API fixes ``canonical_url`` on the first version and carries
    it on every update, so a later title or date change keeps the first URL.
    """
    if content.canonical_url is not None:
        return str(content.canonical_url)
    return base_url.rstrip("/") + article_path(content)


_WEB_LINK = re.compile(WEB_LINK_PATTERN)
WEB_LINK_MAX = 2000


def web_link(url: str | None) -> str | None:
    """``url`` if it is a link a person may be shown (http or https, with a host), else None.

    The one check for links that come from outside: platforms' answers, WordPress, webhook
    receivers. The delivery event refuses anything else (``WEB_LINK_PATTERN``).
    """
    if url is None or len(url) > WEB_LINK_MAX or _WEB_LINK.match(url) is None:
        return None
    return url

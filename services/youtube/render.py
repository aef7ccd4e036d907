"""The video's title, description and tags, within YouTube's documented limits.

Source: https://developers.google.com/youtube/v3/docs/videos (``snippet.title``: at most 100
characters, no ``<`` or ``>``; ``snippet.description``: at most 5000 bytes, no ``<`` or ``>``;
``snippet.tags``: at most 500 characters in total, where the commas between tags count and a tag
containing a space counts as if wrapped in quotation marks: ``Foo-Baz`` is 7, ``Foo Baz`` is 9).

Rules chosen here (documented in the README):
- title: NFC, angle brackets dropped; over 100 characters → cut at the last word boundary that
  leaves room for "…" (a single word longer than that is cut hard);
- description: summary, a blank line, the canonical website link, a blank line, hashtags. Only
  the summary is ever shortened: cut at a word boundary with "…" so the whole fits 5000 UTF-8
  bytes; the link is never cut, and hashtags are dropped before the summary would vanish;
- tags: the marker tag first (it identifies the post), then the content's tags in order while
  the total stays within 500; a tag that does not fit is left out (tags are optional metadata).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

from loa.channels.corrections import CORRECTION_LABEL
from loa.text import nfc

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
TAG_MAX_CHARS = 100
HASHTAGS_MAX = 15
"""YouTube ignores every hashtag of a video that has more than 60; a few read better anyway."""
ELLIPSIS = "…"
_FORBIDDEN = str.maketrans({"<": "‹", ">": "›"})
_TAG_FORBIDDEN = str.maketrans({"<": "", ">": "", ",": " ", '"': ""})
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NOT_HASHTAG = re.compile(r"[^\w]+")


def clean(text: str) -> str:
    """NFC, and the angle brackets YouTube refuses replaced by look-alike quotes."""
    return nfc(text).translate(_FORBIDDEN).strip()


def shorten(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix ending at a word boundary, plus "…", for which ``fits(candidate)`` holds."""
    if fits(text):
        return text
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:  # binary search on the number of words kept
        mid = (low + high + 1) // 2
        if fits(" ".join(words[:mid]).rstrip(" ,.;:-–—") + ELLIPSIS):
            low = mid
        else:
            high = mid - 1
    if low > 0:
        return " ".join(words[:low]).rstrip(" ,.;:-–—") + ELLIPSIS
    chars = list(text)  # one very long word: cut by characters
    while chars and not fits("".join(chars) + ELLIPSIS):
        chars.pop()
    return "".join(chars) + ELLIPSIS if chars else ""


def render_title(title: str) -> str:
    text = _SPACES.sub(" ", clean(title))
    return shorten(text, lambda s: len(s) <= TITLE_MAX_CHARS)


def html_to_text(body: str) -> str:
    """Plain text of a sanitised HTML body (paragraph breaks kept)."""
    text = re.sub(r"(?i)</(p|div|h[1-6]|li)>|<br\s*/?>", "\n", body)
    text = html.unescape(_HTML_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def hashtag(tag: str) -> str:
    """``Chuyển đổi số`` → ``#Chuyểnđổisố``: letters and digits kept, Vietnamese intact."""
    word = _NOT_HASHTAG.sub("", nfc(tag))
    return "#" + word if word else ""


def _fits_bytes(room: int) -> Callable[[str], bool]:
    return lambda text: len(text.encode("utf-8")) <= room


def render_description(summary: str, link: str, tags: list[str], *, may_shorten: bool = True) -> str:
    """Summary + link + hashtags within 5000 UTF-8 bytes.

    With ``may_shorten=False`` (an editor's own text for this target) the text is never cut: a
    text that does not fit whole, even without the hashtags, raises ``ValueError`` naming ``text``.
    Raises ``ValueError`` too if the link alone cannot fit.
    """
    hashtags = " ".join(h for h in (hashtag(t) for t in tags[:HASHTAGS_MAX]) if h)
    summary = clean(summary)
    room = -1
    for tail in (f"{link}\n\n{hashtags}" if hashtags else link, link):
        tail = clean(tail)
        room = DESCRIPTION_MAX_BYTES - len(tail.encode("utf-8")) - 2
        if room < 0:
            continue
        if not summary:
            return tail
        kept = shorten(summary, _fits_bytes(room)) if may_shorten else summary
        if kept and len(kept.encode("utf-8")) <= room:
            return f"{kept}\n\n{tail}"
    if not may_shorten and room >= 0:
        raise ValueError(
            f"text: {len(summary.encode('utf-8'))} UTF-8 bytes, at most {room} fit in the "
            f"{DESCRIPTION_MAX_BYTES}-byte description next to the link"
        )
    raise ValueError(f"description: the link alone is over {DESCRIPTION_MAX_BYTES} bytes")


def tags_length(tags: list[str]) -> int:
    """YouTube's count: commas between tags, quotes around a tag that contains a space."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def render_tags(marker: str, tags: list[str]) -> list[str]:
    chosen = [marker]
    seen = {marker.casefold()}
    for raw in tags:
        tag = _SPACES.sub(" ", nfc(raw).translate(_TAG_FORBIDDEN)).strip()
        if not tag or len(tag) > TAG_MAX_CHARS or tag.casefold() in seen:
            continue
        if tags_length([*chosen, tag]) <= TAGS_MAX_CHARS:
            chosen.append(tag)
            seen.add(tag.casefold())
    return chosen


def correction_line(on: date, link: str) -> str:
    """``Đính chính (dd/mm/yyyy): <link>``: what a correction puts on top of its original's description."""
    return clean(f"{CORRECTION_LABEL} ({on:%d/%m/%Y}): {link}")


def has_correction_line(description: str, link: str) -> bool:
    """Whether the description already names this correction (whatever day wrote it)."""
    prefix, link = f"{CORRECTION_LABEL} (", clean(link)
    return any(line.startswith(prefix) and line.endswith(link) for line in description.splitlines())


def with_correction_line(description: str, line: str, link: str) -> str:
    """``line`` on top of ``description``, once; the old text shortened (word boundary, "…") so the
    whole keeps within 5000 UTF-8 bytes: the correction is never the part left out."""
    if has_correction_line(description, link):
        return description
    room = DESCRIPTION_MAX_BYTES - len(line.encode("utf-8")) - 2
    if room < 0:
        raise ValueError(f"description: the correction line alone is over {DESCRIPTION_MAX_BYTES} bytes")
    kept = shorten(description, _fits_bytes(room)) if description else ""
    return f"{line}\n\n{kept}" if kept else line

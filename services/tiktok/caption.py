"""The caption of a TikTok video: title, summary, the website link and hashtags, within 2200
UTF-16 code units.

Source: ``post_info.title`` of developers.tiktok.com/doc/content-posting-api-reference-direct-post
("The video caption. Hashtags starting with # and mentions starting with @ will be … linked …
The maximum length is 2200 in UTF-16 runes."): a hashtag is part of the caption and counts with
it, ``#`` included; an emoji outside the BMP counts 2 (``loa.text.count_utf16_units``).

Rules chosen here (services/tiktok/README.md):
- NFC; the title on the first line, the summary, the link, the hashtags (at most ``HASHTAGS_MAX``)
  on the last, each block separated by a blank line;
- only a summary Loa chose (not an editor's own ``target.text``) is shortened, at a word boundary
  with "…"; hashtags are dropped before the summary would vanish. An editor's text that does not
  fit is refused by the runtime's limits check, naming ``text``.
"""

from __future__ import annotations

import re

from loa.text import count_utf16_units, nfc

CAPTION_MAX_UTF16 = 2200
HASHTAGS_MAX = 5
"""A few read better than many; TikTok documents no cap of its own."""
ELLIPSIS = "…"
_NOT_HASHTAG = re.compile(r"[^\w]+")


def hashtag(tag: str) -> str:
    """``Chuyển đổi số`` → ``#Chuyểnđổisố``: letters and digits kept, Vietnamese intact (NFC)."""
    word = _NOT_HASHTAG.sub("", nfc(tag))
    return "#" + word if word else ""


def hashtags(tags: list[str]) -> str:
    chosen: list[str] = []
    for tag in (hashtag(t) for t in tags):
        if tag and tag.casefold() not in {c.casefold() for c in chosen}:
            chosen.append(tag)
    return " ".join(chosen[:HASHTAGS_MAX])


def _join(*blocks: str) -> str:
    return "\n\n".join(b for b in blocks if b)


def _shorten(text: str, room: int) -> str:
    """The longest word-boundary prefix of ``text`` that, with "…", fits ``room`` UTF-16 units."""
    if count_utf16_units(text) <= room:
        return text
    words = text.split(" ")
    while words:
        words.pop()
        candidate = " ".join(words).rstrip(" ,.;:-–—") + ELLIPSIS
        if words and count_utf16_units(candidate) <= room:
            return candidate
    return ""


def render_caption(title: str, text: str, link: str, tags: list[str], *, may_shorten: bool) -> str:
    """The caption; with ``may_shorten`` the summary (and if need be the hashtags) give way."""
    title, text, link = nfc(title).strip(), nfc(text).strip(), nfc(link).strip()
    if text == title:
        text = ""  # a content without summary: its title once
    tail_with_tags = _join(link, hashtags(tags))
    whole = _join(title, text, tail_with_tags)
    if not may_shorten or count_utf16_units(whole) <= CAPTION_MAX_UTF16:
        return whole
    for tail in (tail_with_tags, link):
        room = CAPTION_MAX_UTF16 - count_utf16_units(_join(title, "x", tail)) + 1
        kept = _shorten(text, room) if room > 0 else ""
        if kept:
            return _join(title, kept, tail)
    return _join(title, link)

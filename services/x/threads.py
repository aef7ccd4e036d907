"""Split a long text into an X thread: parts within the weighted limit, cut between sentences or
words (never inside a word or a URL), numbered ``(i/n)`` when there is more than one part."""

from __future__ import annotations

import re
import unicodedata

from services.x.counting import MAX_WEIGHTED_LENGTH, find_urls, weighted_length, without_refused_characters
from services.x.twitter_text import V3

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_MAX_PARTS = 25


class UnsplittableError(ValueError):
    """A single word or URL is longer than one post."""


def _tokens(sentence: str) -> list[str]:
    """Words, with every URL kept whole as one token."""
    tokens: list[str] = []
    position = 0
    for start, end in find_urls(sentence):
        tokens.extend(sentence[position:start].split())
        tokens.append(sentence[start:end])
        position = end
    tokens.extend(sentence[position:].split())
    return tokens


SPACE = V3.weight(ord(" ")) // V3.scale
"""What joining two units adds: their weights add up across a space, which ends any URL or emoji
sequence and begins none (the run is checked part by part all the same: ``split_thread``). Read from
the configuration, not counted: a count at import would compile the URL and emoji patterns, which
are compiled at first use."""


def _pack(units: list[str], budget: int, *, words: bool = False, exact: bool = False) -> list[str]:
    """Greedily pack sentences (or, with ``words``, words) into chunks within ``budget``; a
    sentence longer than one post is packed word by word. Each unit is counted once and a chunk's
    weight is the sum of its units' and spaces' (``exact`` counts every candidate instead, as the
    first release did, quadratic in the units)."""
    chunks: list[str] = []
    current, weight = "", 0
    for unit in units:
        unit_weight = weighted_length(unit)
        candidate = f"{current} {unit}" if current else unit
        if not current:
            candidate_weight = unit_weight
        elif exact:
            candidate_weight = weighted_length(candidate)
        else:
            candidate_weight = weight + SPACE + unit_weight
        if candidate_weight <= budget:
            current, weight = candidate, candidate_weight
            continue
        if current:
            chunks.append(current)
        if unit_weight > budget:
            if words:
                raise UnsplittableError(f"a word or link is longer than one post: {unit[:40]!r}...")
            chunks.extend(_pack(_tokens(unit), budget, words=True, exact=exact))
            current = chunks.pop()
            weight = weighted_length(current)
        else:
            current, weight = unit, unit_weight
    if current:
        chunks.append(current)
    return chunks


def split_thread(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> list[str]:
    """The posts of a thread for ``text`` (NFC, less the characters X refuses); one post when it fits."""
    text = without_refused_characters(unicodedata.normalize("NFC", text)).strip()
    if weighted_length(text) <= limit:
        return [text]
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    # The numbering " (nn/nn)" takes at most 8; reserve it, then number.
    parts = _pack(sentences, limit - 8)
    if any(weighted_length(part) > limit - 8 for part in parts):  # the sums were wrong: count each
        parts = _pack(sentences, limit - 8, exact=True)
    if len(parts) > _MAX_PARTS:
        raise UnsplittableError(f"the text needs {len(parts)} posts; at most {_MAX_PARTS} are sent")
    total = len(parts)
    return [f"{part} ({i}/{total})" for i, part in enumerate(parts, start=1)]

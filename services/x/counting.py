"""X's weighted character count: twitter-text's ``parseTweet`` with ``config/v3.json``, the rules X
applies (docs.x.com/fundamentals/counting-characters), ported in ``services/x/twitter_text/``.

In short: the text is NFC-normalised; a character weighs 1 in U+0000–U+10FF, U+2000–U+200D,
U+2010–U+201F, U+2032–U+2037, else 2; every URL X finds (with or without scheme, by its TLD list)
counts 23; every emoji sequence twemoji-parser knows counts 2; U+FFFE, U+FEFF and U+FFFF make a
post invalid; the limit is 280.

Vietnamese is *not* all single-weight: the precomposed letters of U+1EA0–U+1EF9 (ạ, ả, ấ, ệ, ộ,
ử, ỹ...) lie outside the weight-1 ranges and count 2, while á, à, ã, â, ă, đ, ê, ô, ơ, ư (below
U+10FF) count 1. A Vietnamese sentence therefore weighs about 1.2–1.4 times its length.
"""

from __future__ import annotations

import unicodedata

from services.x.twitter_text import V3, parse_tweet, weighted_length
from services.x.twitter_text.extract import extract_urls, remove_invalid_characters, units

MAX_WEIGHTED_LENGTH = V3.max_weighted_length
__all__ = ["MAX_WEIGHTED_LENGTH", "find_urls", "is_valid", "weighted_length", "without_refused_characters"]


def is_valid(text: str) -> bool:
    """X accepts this text: not empty, within 280, no U+FFFE, U+FEFF or U+FFFF."""
    return parse_tweet(text).valid


def without_refused_characters(text: str) -> str:
    """``text`` less U+FFFE, U+FEFF and U+FFFF (a stray byte-order mark, say), which X refuses."""
    return remove_invalid_characters(text)


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans (in Python string indices) of the URLs X would wrap in t.co, in the NFC text."""
    text = unicodedata.normalize("NFC", text)
    code_units = units(text)
    if len(code_units) == len(text):
        return [span for _, span in extract_urls(code_units)]
    # a supplementary character is two code units but one Python character
    to_index = [i for i, ch in enumerate(text) for _ in range(2 if ord(ch) > 0xFFFF else 1)]
    to_index.append(len(text))
    return [(to_index[start], to_index[end]) for _, (start, end) in extract_urls(code_units)]

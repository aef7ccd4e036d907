"""``parseTweet`` of twitter-text 3.1.0 (``src/parseTweet.js``, ``src/lib/getCharacterWeight.js``)
and the configurations of its ``config/`` folder; v3 is the one X applies."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from services.x.twitter_text.extract import extract_emoji, extract_urls, has_invalid_characters, units


@dataclass(frozen=True)
class Config:
    """One of twitter-text's ``config/v*.json``: weights are scaled integers, ranges inclusive."""

    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    ranges: tuple[tuple[int, int, int], ...] = ()
    emoji_parsing: bool = False

    def weight(self, code_unit: int) -> int:
        """getCharacterWeight: the weight of the first range holding the code unit, else the default."""
        for start, end, weight in self.ranges:
            if start <= code_unit <= end:
                return weight
        return self.default_weight

    @cached_property
    def _outside(self) -> re.Pattern[str]:
        """One character of no range: it weighs the default."""
        return re.compile("[^" + "".join(f"{chr(start)}-{chr(end)}" for start, end, _ in self.ranges) + "]")

    @cached_property
    def _inside(self) -> int | None:
        """What a character of any range weighs, or None when the ranges weigh differently from
        each other (no configuration of twitter-text's does)."""
        weights = {weight for _, _, weight in self.ranges}
        return weights.pop() if len(weights) == 1 else None

    def plain_weight(self, text: str, start: int, end: int) -> int | None:
        """The weight of ``text[start:end]`` (no URL, no emoji, no surrogate in it) in one pass of a
        pattern rather than a call a character; None when only ``weight``, a character at a time,
        tells the ranges apart."""
        if not self.ranges:
            return self.default_weight * (end - start)
        if self._inside is None:
            return None
        outside = len(self._outside.findall(text, start, end))
        return self._inside * (end - start - outside) + self.default_weight * outside


V1 = Config(max_weighted_length=140, scale=1, default_weight=1, transformed_url_length=23)
_V2_RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
V2 = Config(280, 100, 200, 23, _V2_RANGES)
V3 = Config(280, 100, 200, 23, _V2_RANGES, emoji_parsing=True)


@dataclass(frozen=True)
class ParseResult:
    """parseTweet's answer; ranges are inclusive UTF-16 indices, as in the JavaScript."""

    weighted_length: int
    valid: bool
    permillage: int
    valid_range_end: int
    display_range_end: int


Spans = dict[int, int]
"""Start → end (code units) of each URL, or of each emoji sequence."""
# A UTF-16 surrogate (a pair is one step of the walk) or a character X refuses: the text is walked.
_WALKED = re.compile("[\ud800-\udfff\ufffe\ufeff\uffff]")


def parse_tweet(text: str, config: Config = V3) -> ParseResult:
    """The weighted length and validity X gives ``text`` (NFC-normalised first).

    A text within the limit, with no surrogate and no refused character, is summed run by run
    (``_summed``); any other is walked a code unit at a time, as the JavaScript does (``_walked``),
    which also finds where the valid range ends."""
    original = units(text)
    normalized, urls, emoji = _entities(text, config)
    weighted = _summed(normalized, urls, emoji, config)
    if weighted is not None and weighted <= config.max_weighted_length * config.scale:
        valid, valid_index = True, max(len(normalized) - 1, 0)  # the walk's last step
    else:
        weighted, valid, valid_index = _walked(normalized, urls, emoji, config)
    length = weighted // config.scale  # every weight is a multiple of the scale
    return ParseResult(
        weighted_length=length,
        valid=valid and 0 < length <= config.max_weighted_length,
        permillage=math.floor(length / config.max_weighted_length * 1000),  # JavaScript's float maths
        valid_range_end=valid_index + len(original) - len(normalized),
        display_range_end=max(len(original) - 1, 0),
    )


@lru_cache(maxsize=256)
def weighted_length(text: str, config: Config = V3) -> int:
    """``parse_tweet(text).weighted_length``, without walking a long text to find its valid range.

    The last texts' counts are kept: a post is counted as its thread is cut (``split_thread``) and
    again as the runtime checks it (``Limits.count``), and its URL pattern, with every TLD X knows,
    is the most costly step of the X publisher's rendering."""
    normalized, urls, emoji = _entities(text, config)
    weighted = _summed(normalized, urls, emoji, config)
    if weighted is None:
        weighted = _walked(normalized, urls, emoji, config)[0]
    return weighted // config.scale


def _entities(text: str, config: Config) -> tuple[str, Spans, Spans]:
    """The NFC text in code units, and the start → end of each URL and emoji sequence in it."""
    normalized = units(unicodedata.normalize("NFC", text))
    urls = {start: end for _, (start, end) in extract_urls(normalized)}
    emoji = extract_emoji(normalized) if config.emoji_parsing else {}
    return normalized, urls, emoji


def _summed(normalized: str, urls: Spans, emoji: Spans, config: Config) -> int | None:
    """The walk's total, a run at a time: each URL and emoji sequence where the walk would meet it,
    the characters between them by ``Config.plain_weight``; None when the text must be walked."""
    if _WALKED.search(normalized):
        return None
    weighted = 0
    index = 0
    for start in sorted(urls.keys() | emoji.keys()):
        if start < index:
            continue  # inside the URL or sequence before it: the walk jumps over it
        between = config.plain_weight(normalized, index, start)
        if between is None:
            return None
        weighted += between
        if start in urls:
            weighted += config.transformed_url_length * config.scale
            index = urls[start]
        else:
            weighted += config.default_weight
            index = emoji[start]
    rest = config.plain_weight(normalized, index, len(normalized))
    return None if rest is None else weighted + rest


def _walked(normalized: str, urls: Spans, emoji: Spans, config: Config) -> tuple[int, bool, int]:
    """parseTweet's loop, a code unit at a time: the scaled weight, validity, the valid range's end."""
    limit = config.max_weighted_length * config.scale
    weighted = 0
    valid = True
    valid_index = 0
    index = 0
    while index < len(normalized):
        if index in urls:
            weighted += config.transformed_url_length * config.scale
            index = urls[index] - 1
        elif index in emoji:
            weighted += config.default_weight
            index = emoji[index] - 1
        else:
            index += 1 if _starts_surrogate_pair(normalized, index) else 0
            # as in the JavaScript, a pair weighs what its low surrogate weighs: the default
            weighted += config.weight(ord(normalized[index]))
        valid = valid and not has_invalid_characters(normalized[index])
        if valid and weighted <= limit:
            valid_index = index
        index += 1
    return weighted, valid, valid_index


def _starts_surrogate_pair(text: str, index: int) -> bool:
    return (
        index < len(text) - 1
        and "\ud800" <= text[index] <= "\udbff"
        and "\udc00" <= text[index + 1] <= "\udfff"
    )

"""``parseTweet`` of twitter-text 3.1.0 (``src/parseTweet.js``, ``src/lib/getCharacterWeight.js``)
and the configurations of its ``config/`` folder; v3 is the one X applies."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

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


def parse_tweet(text: str, config: Config = V3) -> ParseResult:
    """The weighted length and validity X gives ``text`` (NFC-normalised first)."""
    original = units(text)
    normalized = units(unicodedata.normalize("NFC", text))
    urls = {start: end for _, (start, end) in extract_urls(normalized)}
    emoji = extract_emoji(normalized) if config.emoji_parsing else {}
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
    length = weighted // config.scale  # every weight is a multiple of the scale
    return ParseResult(
        weighted_length=length,
        valid=valid and 0 < length <= config.max_weighted_length,
        permillage=math.floor(length / config.max_weighted_length * 1000),  # JavaScript's float maths
        valid_range_end=valid_index + len(original) - len(normalized),
        display_range_end=max(len(original) - 1, 0),
    )


def _starts_surrogate_pair(text: str, index: int) -> bool:
    return (
        index < len(text) - 1
        and "\ud800" <= text[index] <= "\udbff"
        and "\udc00" <= text[index + 1] <= "\udfff"
    )

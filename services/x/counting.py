"""X's weighted character count, after twitter-text's ``config/v3.json`` (the reference X publishes).

The rules (twitter/twitter-text, config/v3.json; docs.x.com/fundamentals/counting-characters):
- the text is NFC-normalised first;
- a code point weighs 1 in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F, U+2032–U+2037, else 2;
- every URL counts 23, whatever its length (t.co wrapping);
- an emoji sequence (with skin tones, variation selectors, ZWJ joins, flags, keycaps) counts 2;
- the limit is 280.

Vietnamese is *not* all single-weight: the precomposed letters of U+1EA0–U+1EF9 (ạ, ả, ấ, ệ, ộ,
ử, ỹ...) lie outside the weight-1 ranges and count 2, while á, à, ã, â, ă, đ, ê, ô, ơ, ư (below
U+10FF) count 1. A Vietnamese sentence therefore weighs about 1.2–1.4 times its length.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
EMOJI_WEIGHT = 2
_SINGLE_WEIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_UNICODE_LABEL = r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?)"
_TLDS = (
    "com|net|org|edu|gov|int|info|biz|io|co|vn|me|tv|app|dev|news|asia|uk|us|jp|cn|kr|fr|de|"
    "au|ca|ly|gl|ai|xyz|online|site"
)
_PATH = r"(?:[/?#][^\s]*[^\s.,;:!?'\")\]])?"
URL_PATTERN = re.compile(
    rf"(?<![\w@./-])(?:https?://(?:{_UNICODE_LABEL}\.)+{_UNICODE_LABEL}(?::\d{{1,5}})?(?:/[^\s]*)?"
    rf"|(?:{_LABEL}\.)+(?:{_TLDS})(?![\w-]){_PATH})",
    re.IGNORECASE,
)

_EMOJI_BASE = (
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, supplemental symbols
    "\u2600-\u27bf"  # misc symbols, dingbats
    "\u2300-\u23ff\u2b00-\u2bff\u2190-\u21ff\u3030\u303d\u3297\u3299\u00a9\u00ae\u203c\u2049\u2122\u2139"
)
_EMOJI_SEQUENCE = re.compile(
    r"(?:[\U0001f1e6-\U0001f1ff]{2})"  # flags: a pair of regional indicators
    r"|(?:[0-9#*]\ufe0f?\u20e3)"  # keycaps
    rf"|(?:[{_EMOJI_BASE}][\ufe0f\U0001f3fb-\U0001f3ff]*"
    rf"(?:\u200d[{_EMOJI_BASE}][\ufe0f\U0001f3fb-\U0001f3ff]*)*)"
)


def _code_point_weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(lo <= cp <= hi for lo, hi in _SINGLE_WEIGHT_RANGES) else 2


def _url_is_valid(url: str) -> bool:
    """Hosts whose labels exceed 63 characters (as punycode) are not links for X."""
    host = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).split("/")[0].split("?")[0]
    host = host.split(":")[0]
    try:
        labels = [label.encode("idna").decode("ascii") for label in host.split(".")]
    except UnicodeError:
        return False
    return all(0 < len(label) <= 63 for label in labels)


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans of the URLs X would wrap in t.co, in the NFC text."""
    return [m.span() for m in URL_PATTERN.finditer(text) if _url_is_valid(m.group(0))]


def weighted_length(text: str) -> int:
    """The length X counts against its 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in find_urls(text):
        total += _weigh_plain(text[position:start]) + URL_WEIGHT
        position = end
    return total + _weigh_plain(text[position:])


def _weigh_plain(text: str) -> int:
    total = 0
    position = 0
    for match in _EMOJI_SEQUENCE.finditer(text):
        total += sum(_code_point_weight(ch) for ch in text[position : match.start()]) + EMOJI_WEIGHT
        position = match.end()
    return total + sum(_code_point_weight(ch) for ch in text[position:])


def fits(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    return 0 < weighted_length(text) <= limit

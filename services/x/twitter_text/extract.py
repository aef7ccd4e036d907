"""URLs and emoji as twitter-text finds them (``extractUrlsWithIndices.js``, ``lib/idna.js``,
twemoji-parser's ``parse``), on UTF-16 code units; indices are code-unit offsets."""

from __future__ import annotations

import re
import sys
from array import array
from functools import cache
from typing import NamedTuple

from services.x.twitter_text import regexes

MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63
DEFAULT_PROTOCOL = "https://"
# invalidUrlWithoutProtocolPrecedingChars.js: a schemeless domain right after these is no link
_INVALID_PRECEDING_SCHEMELESS = frozenset("-_./")
# punycode 1.4.1 (mapDomain): the label separators it reads as dots
_IDNA_DOTS = re.compile("[\u3002\uff0e\uff61]")

# ſ ı İ (U+0100–U+024F) → ĸ, which has no case; K Å Ω (signs) → ℩, which has none either
_FOLDS_JAVASCRIPT_KEEPS = str.maketrans(
    dict.fromkeys("ſıİ", "ĸ") | dict.fromkeys("\u212a\u212b\u2126", "\u2129")
)
Span = tuple[int, int]


def units(text: str) -> str:
    """``text`` as JavaScript sees it: one character per UTF-16 code unit (surrogates apart)."""
    if text.isascii() or max(text) < "\U00010000":
        return text
    codes = array("H", text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        codes.byteswap()
    return "".join(map(chr, codes))


def from_units(text: str) -> str:
    """The inverse of ``units``: surrogate pairs joined again into code points (a lone one kept)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _js(source: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    flags = re.IGNORECASE if ignore_case else 0
    source = source.replace("{GTLD}", regexes.GTLD).replace("{CCTLD}", regexes.CCTLD)
    return re.compile(units(source), flags)


class _Patterns(NamedTuple):
    extract_url: re.Pattern[str]
    ascii_domain: re.Pattern[str]
    tco_url: re.Pattern[str]
    invalid_chars: re.Pattern[str]
    emoji: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    """Compiled once, on first use (the TLD alternations make them large)."""
    return _Patterns(
        extract_url=_js(regexes.EXTRACT_URL, ignore_case=True),
        ascii_domain=_js(regexes.VALID_ASCII_DOMAIN, ignore_case=True),
        tco_url=_js(regexes.VALID_TCO_URL, ignore_case=True),
        invalid_chars=_js(regexes.INVALID_CHARS),
        emoji=_js(regexes.EMOJI),
    )


def has_invalid_characters(text: str) -> bool:
    """U+FFFE, U+FEFF, U+FFFF: X refuses a post that holds one."""
    return _patterns().invalid_chars.search(text) is not None


def remove_invalid_characters(text: str) -> str:
    """``text`` without the characters ``has_invalid_characters`` looks for."""
    return _patterns().invalid_chars.sub("", text)


def extract_emoji(text: str) -> dict[int, int]:
    """Start → end of every emoji sequence twemoji-parser recognises, in ``units`` text."""
    return {m.start(): m.end() for m in _patterns().emoji.finditer(text)}


def extract_urls(text: str, *, without_protocol: bool = True) -> list[tuple[str, Span]]:
    """Every URL of ``units`` text with its span, as ``extractUrlsWithIndices`` returns them."""
    if not text or ("." not in text if without_protocol else ":" not in text):
        return []
    patterns = _patterns()
    urls: list[tuple[str, Span]] = []
    for match in patterns.extract_url.finditer(_fold_as_javascript(text)):
        before, url, protocol, domain, path = (text[slice(*match.span(g))] for g in (2, 3, 4, 5, 7))
        start, end = match.span(3)
        if not _is_valid_url(url, protocol or DEFAULT_PROTOCOL, domain):
            continue
        if protocol:
            tco = patterns.tco_url.match(_fold_as_javascript(url))
            if tco:
                if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                    continue
                end = start + tco.end()
            urls.append((text[start:end], (start, end)))
            continue
        if not without_protocol or before in _INVALID_PRECEDING_SCHEMELESS:
            continue
        urls.extend(_schemeless(url, domain, path, start, end))
    return urls


def _fold_as_javascript(text: str) -> str:
    """``text`` for an ignore-case pattern: the few letters Python would fold onto ASCII (or ``å``)
    and JavaScript's ``i`` flag would not (``ſ`` ≠ ``s``, ``K`` ≠ ``k``) are swapped for uncased ones
    of the same ranges, one code unit for one, so spans stay those of ``text``."""
    return text.translate(_FOLDS_JAVASCRIPT_KEEPS)


def _schemeless(url: str, domain: str, path: str, start: int, end: int) -> list[tuple[str, Span]]:
    """A URL without scheme keeps only its ASCII-only domains; the last one takes the path."""
    found: list[tuple[str, Span]] = []
    for match in _patterns().ascii_domain.finditer(_fold_as_javascript(domain)):
        found.append((domain[slice(*match.span())], (start + match.start(), start + match.end())))
    if found and path:
        last, (last_start, _) = found[-1]
        found[-1] = (url.replace(domain, last, 1), (last_start, end))
    return found


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    """A domain punycode can encode, within 63 per label, in a URL of at most 4096."""
    encoded = _to_ascii(domain)
    if not encoded:
        return False
    return len(protocol) + len(url) + len(encoded) - len(domain) <= MAX_URL_LENGTH


def _to_ascii(domain: str) -> str | None:
    """``lib/idna.js``'s ``toAscii``: None when a label's punycode is empty or over 63 long.

    Like the JavaScript, the domain itself is returned, not its punycode."""
    if domain.startswith("xn--") and not _patterns().ascii_domain.search(_fold_as_javascript(domain)):
        return None
    for label in domain.split("."):
        if not 0 < len(_punycode_label(from_units(label))) <= MAX_DOMAIN_LABEL_LENGTH:
            return None
    return domain


def _punycode_label(label: str) -> str:
    """punycode 1.4.1 ``toASCII`` of one label: ``xn--`` + RFC 3492 for non-ASCII parts."""
    parts = _IDNA_DOTS.split(label)
    return ".".join(
        p if re.fullmatch("[\x20-\x7e]*", p) else "xn--" + p.encode("punycode").decode() for p in parts
    )

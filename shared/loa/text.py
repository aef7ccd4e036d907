"""Vietnamese text as data: NFC at the edge, slugs with Vietnamese folding, platform counting."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Letters that do not decompose under NFD and so survive diacritic stripping. ``Ð`` (U+00D0,
# Icelandic eth) and ``Ɖ`` (U+0189) are look-alikes of ``Đ`` (U+0110) that Vietnamese text typed on
# some keyboards carries by mistake; they fold to ``d`` too.
_FOLD_EXTRA = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ɖ": "d",
        "Ɖ": "D",
        "ơ": "o",
        "Ơ": "O",
        "ư": "u",
        "Ư": "U",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
    }
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def nfc(value: str) -> str:
    """Return ``value`` in Unicode normalisation form C (how Loa stores every text)."""
    return unicodedata.normalize("NFC", value)


NfcStr = Annotated[str, AfterValidator(nfc)]
"""A string field that is normalised to NFC when validated."""

# Invisible characters that change how text *reads* without being text: the bidi embedding,
# override and isolate controls and marks of Unicode UAX #9 "Unicode Bidirectional Algorithm"
# (table 4, https://www.unicode.org/reports/tr9/#Directional_Formatting_Characters): U+202E
# shows "gpj.exe" as "exe.jpg"; and the zero-width characters U+200B, U+200C, U+2060, U+FEFF,
# U+180E, which hide inside words (search, slugs and platform counts see them, readers do not).
# ZWJ (U+200D) is kept between two emoji: UTS #51 "Unicode Emoji" §2.3 emoji ZWJ sequences
# (https://www.unicode.org/reports/tr51/#Emoji_ZWJ_Sequences), e.g. 👩‍💻.
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ZERO_WIDTH = "\u180e\u200b\u200c\u2060\ufeff"
_ZWJ = "\u200d"
_INVISIBLE = re.compile(f"[{_BIDI_CONTROLS}{_ZERO_WIDTH}]")
_EMOJI_TAIL = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]+$")
"""What may follow an emoji before a ZWJ: variation selector 16, skin-tone modifiers."""


def _is_emoji(ch: str) -> bool:
    # Emoji are "Symbol, other" (So); a close enough test without the Extended_Pictographic table.
    return unicodedata.category(ch) == "So"


def strip_invisible(value: str) -> str:
    """Remove bidi controls and zero-width characters; keep ZWJ inside emoji sequences."""
    value = _INVISIBLE.sub("", value)
    if _ZWJ not in value:
        return value
    kept: list[str] = []
    for index, part in enumerate(value.split(_ZWJ)):
        if index:
            before = _EMOJI_TAIL.sub("", kept[-1])[-1:] if kept else ""
            if before and part and _is_emoji(before) and _is_emoji(part[0]):
                kept.append(_ZWJ)
        kept.append(part)
    return "".join(kept)


def fold_vietnamese(value: str) -> str:
    """Strip Vietnamese diacritics: ``Đường`` → ``Duong`` (input in any normalisation form)."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", value).translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(value: str, max_length: int = 80) -> str:
    """A URL slug with Vietnamese folding: ``Đại hội Đảng`` → ``dai-hoi-dang``."""
    slug = _NON_SLUG.sub("-", fold_vietnamese(value).lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or "bai-viet"


def count_code_points(value: str) -> int:
    """Characters as most platforms count them: Unicode code points of the NFC form."""
    return len(nfc(value))


def count_utf8_bytes(value: str) -> int:
    """Length in UTF-8 bytes (YouTube counts descriptions this way)."""
    return len(nfc(value).encode("utf-8"))


def count_utf16_units(value: str) -> int:
    """Length in UTF-16 code units of the NFC form: an emoji outside the BMP counts 2 (TikTok counts
    a caption's ``title`` this way: "in UTF-16 runes", its Direct Post reference)."""
    return len(nfc(value).encode("utf-16-le")) // 2


ADDRESS_IN_TEXT = re.compile(r"[^\s<>\"(),;:@]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
"""An address inside a relay's reply (Postfix: ``<a@b.vn>: Recipient address rejected``)."""
HIDDEN_ADDRESS = "[địa chỉ]"


def without_addresses(text: str) -> str:
    """``text`` with every e-mail address replaced: a relay's reply often names the recipient, and
    a reply is kept in progress, events and the tracker, which must never carry an address."""
    return ADDRESS_IN_TEXT.sub(HIDDEN_ADDRESS, text)

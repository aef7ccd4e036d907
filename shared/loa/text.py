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

"""The misinformation watch's two rules, as pure functions: a phrase in a comment, a burst of comments.

Phrases match by whole words, ignoring case, and ignoring diacritics where either side has none
(``fold_vietnamese``: NFD, marks stripped, ``đ`` → ``d``): "lua dao", "LỪA ĐẢO" and "Lừa đảo"
all match the phrase "lừa đảo", and a phrase typed without marks matches every spelling. Where both
the comment's word and the phrase's word carry marks, the marks must agree: Vietnamese words differ
by their tones alone ("tin giá vàng" is price news, not "tin giả"), and matching them blindly would
flag ordinary prose. A phrase never matches inside a longer word ("lừa đảo" is not in
"lừađảo123" nor "tin giả" in "tin giảm").

The volume rule: comments on a post in the last hour at or above ``factor`` × the post's hourly rate
over the ``baseline_h`` hours before it, and at least ``minimum`` (a quiet post going from 1 to 3 is
not a spike); a post with less than an hour of history before the window has no baseline yet. The
tracker applies it to each post and to each unit (all its posts' comments together).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loa.text import fold_vietnamese, nfc

DEFAULT_PHRASES = ("tin giả", "sai sự thật", "lừa đảo")
"""What a unit watches until it sets its own list (issue #18 item 4)."""
PHRASE_MAX = 200
PHRASES_MAX = 200
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of ``text``, NFC and lower case (``\\w`` is Unicode: a Vietnamese letter is a letter)."""
    return _WORD.findall(nfc(text).lower())


def _same_word(seen: str, watched: str) -> bool:
    folded = fold_vietnamese(seen)
    if folded != fold_vietnamese(watched):
        return False
    return seen in (watched, folded) or watched == fold_vietnamese(watched)


def check_phrase(phrase: str) -> str:
    """The phrase as stored (NFC, trimmed), else ``ValueError`` naming the reason."""
    cleaned = " ".join(nfc(phrase).split())
    if not words(cleaned):
        raise ValueError(f"phrases: {phrase!r} has no word to match")
    if len(cleaned) > PHRASE_MAX:
        raise ValueError(f"phrases: {cleaned[:40]!r}… is longer than {PHRASE_MAX} characters")
    return cleaned


def first_match(text: str, phrases: Iterable[str]) -> str | None:
    """The first phrase found in ``text`` as whole words, or None."""
    seen = words(text)
    for phrase in phrases:
        watched = words(phrase)
        n = len(watched)
        if n and any(
            all(_same_word(w, p) for w, p in zip(seen[i : i + n], watched, strict=True))
            for i in range(len(seen) - n + 1)
        ):
            return phrase
    return None


@dataclass(frozen=True)
class VolumeRule:
    factor: float = 3.0
    minimum: int = 10
    baseline_h: int = 6

    def spike(self, created: Sequence[datetime], now: datetime) -> tuple[int, float] | None:
        """(comments in the last hour, baseline per hour) when the last hour is a spike, else None."""
        window = now - timedelta(hours=1)
        start = window - timedelta(hours=self.baseline_h)
        recent = sum(1 for t in created if window < t <= now)
        if recent < self.minimum or not created:
            return None
        first = min(created)
        if first > window - timedelta(hours=1):
            return None  # less than an hour of history before the window: no baseline yet
        history_h = (window - max(first, start)).total_seconds() / 3600
        baseline = sum(1 for t in created if max(first, start) <= t <= window) / history_h
        return (recent, baseline) if recent >= self.factor * baseline else None

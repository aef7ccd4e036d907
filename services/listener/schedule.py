"""When the listener polls a published post: a decaying table of offsets from its publication, one
for each kind of read (``Read``), each followed on its own.

Early figures move fast and late ones slowly, so the polls thin out: by default 10 minutes, 1 hour,
6 hours, 24 hours and 7 days after publication, then every day until 30 days (issue #18). Comments
come in bursts the misinformation watch should see early, so their table is denser: 10, 20 and 40
minutes, 1, 2, 4, 8 and 24 hours, then every day until the same end. The tables are settings
(``LOA_LISTENER_SCHEDULE``, ``LOA_LISTENER_COMMENT_SCHEDULE``, ``LOA_LISTENER_THEN_EVERY``,
``LOA_LISTENER_FOLLOW_FOR``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_duration(text: str) -> timedelta:
    """``10m``, ``6h``, ``7d``, ``1.5s``: a number and a unit (s, m, h, d)."""
    found = _DURATION.match(text.strip())
    if found is None:
        raise ValueError(f"{text.strip()!r} is not a duration like 10m, 6h or 7d")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


class Read(StrEnum):
    """What one poll of a post reads: its figures (``engagement.observed``) or its comments
    (``comments.observed``); each has its own row, step and next poll in the listener's store."""

    FIGURES = "figures"
    COMMENTS = "comments"


@dataclass(frozen=True)
class Schedule:
    """The offsets after publication at which a post is polled, in increasing order."""

    offsets: tuple[timedelta, ...]

    @classmethod
    def of(cls, steps: str, then_every: str, follow_for: str) -> Schedule:
        """``steps`` comma-separated, then one poll every ``then_every`` until ``follow_for``."""
        offsets = [parse_duration(s) for s in steps.split(",") if s.strip()]
        if not offsets or offsets != sorted(set(offsets)):
            raise ValueError(f"schedule {steps!r}: give increasing durations, e.g. 10m,1h,6h,24h,7d")
        every, until = parse_duration(then_every), parse_duration(follow_for)
        if every <= timedelta():
            raise ValueError(f"then every {then_every!r}: must be more than 0")
        while offsets[-1] + every <= until:
            offsets.append(offsets[-1] + every)
        return cls(tuple(offsets))

    def next_poll(
        self, published_at: datetime, now: datetime, after: int = -1
    ) -> tuple[int, datetime] | None:
        """The first step past ``after`` whose time is after ``now``, and its time; None once done.

        Steps whose time passed while the listener was down are not made up one by one: the next
        poll is the first step still ahead (a figure read late is read once).
        """
        for step, offset in enumerate(self.offsets):
            if step > after and published_at + offset > now:
                return step, published_at + offset
        return None

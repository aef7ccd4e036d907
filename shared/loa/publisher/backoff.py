"""When to try again after a transient error: exponential backoff with full jitter, capped; after a
platform's own reset time, a margin and a spread so that many waiting jobs do not come back at once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

RESET_MARGIN = timedelta(seconds=1)
"""After a platform's reset time (X's ``x-rate-limit-reset`` is a whole epoch second, Facebook's
``estimated_time_to_regain_access`` whole minutes): our clock and the platform's differ, and a call
at the reset second itself met 429 again (issue #25, 14 of 15 retries)."""
RESET_SPREAD = timedelta(seconds=3)
"""Retries after one reset spread uniformly over this long, not all at the reset second."""


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: uniform in [0, min(cap, base * 2^(attempt-1))].

    Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter") spreads the retries of
    many jobs that failed together, instead of bringing them back in one wave.
    """
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return (rng or random).uniform(0, ceiling)


def after_reset(retry_at: datetime, rng: random.Random | None = None) -> datetime:
    """The time to call again after the platform's reset time: past it by a margin and a random spread."""
    spread = (rng or random).uniform(0, RESET_SPREAD.total_seconds())
    return retry_at + RESET_MARGIN + timedelta(seconds=spread)


def retry_time(
    now: datetime,
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_at: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next due time: the backoff, but never before (nor at) the platform's own reset time."""
    due = now + timedelta(seconds=backoff_delay(attempt, base=base, cap=cap, rng=rng))
    if retry_at is not None:
        return max(due, after_reset(retry_at, rng))
    return due

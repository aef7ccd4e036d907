"""When to try again after a transient error: exponential backoff with full jitter, capped."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: uniform in [0, min(cap, base * 2^(attempt-1))].

    Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter") spreads the retries of
    many jobs that failed together, instead of bringing them back in one wave.
    """
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return (rng or random).uniform(0, ceiling)


def retry_time(
    now: datetime,
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_at: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next due time: the backoff, but never before the platform's own reset time."""
    due = now + timedelta(seconds=backoff_delay(attempt, base=base, cap=cap, rng=rng))
    if retry_at is not None and retry_at > due:
        return retry_at
    return due

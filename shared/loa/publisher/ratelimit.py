"""A token bucket per account, from the adapter's declared ``requests_per_period``, with a share of
it kept for the urgent lane.

Normal work may use only ``1 - URGENT_RESERVE`` of a bucket: it takes a token only while more than
the reserve would be left. Urgent content and a retraction's take-downs may use all of it, so a
normal backlog that has spent its share never holds them up (docs/architecture.md, "The urgent lane").
The dispatcher keeps the same share of its slots (``reserved_slots``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

URGENT_RESERVE = 0.2
"""The share of each account's budget normal work leaves for the urgent lane (rounded down to
whole requests: an account allowed fewer than 5 requests a period keeps none)."""


def reserved(capacity: int) -> int:
    """Requests of a bucket of ``capacity`` that only the urgent lane may spend."""
    return math.floor(capacity * URGENT_RESERVE)


def reserved_slots(concurrency: int) -> int:
    """Of ``publisher_concurrency`` deliveries in flight, how many only the urgent lane may take
    (the same share, rounded down: under 5 slots, none), so an urgent post never waits for a
    normal one's platform call to end before its own can start."""
    return math.floor(concurrency * URGENT_RESERVE)


class TokenBucket:
    """``capacity`` requests per ``period`` seconds, refilled continuously; bursts up to ``capacity``."""

    def __init__(self, capacity: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or period <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and period > 0")
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.reserve = float(reserved(capacity))
        self._clock = clock
        self._tokens = float(capacity)
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_take(self, *, urgent: bool = False) -> float:
        """Take a token and return 0, or return the seconds until one is available (nothing taken).

        Normal work must leave the reserve in the bucket; urgent work may take the last token."""
        self._refill()
        need = 1.0 if urgent else 1.0 + self.reserve
        if self._tokens >= need:
            self._tokens -= 1
            return 0.0
        return (need - self._tokens) / self.rate


class AccountBuckets:
    """One bucket per account name; no limit declared means no bucket."""

    def __init__(
        self, requests_per_period: tuple[int, float] | None, clock: Callable[[], float] = time.monotonic
    ):
        self._limit = requests_per_period
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def try_take(self, account: str, *, urgent: bool = False) -> float:
        if self._limit is None:
            return 0.0
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = self._buckets[account] = TokenBucket(*self._limit, clock=self._clock)
        return bucket.try_take(urgent=urgent)

"""A token bucket per account, from the adapter's declared ``requests_per_period``."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``capacity`` requests per ``period`` seconds, refilled continuously; bursts up to ``capacity``."""

    def __init__(self, capacity: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or period <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and period > 0")
        self.capacity = float(capacity)
        self.rate = capacity / period
        self._clock = clock
        self._tokens = float(capacity)
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available (nothing taken)."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class AccountBuckets:
    """One bucket per account name; no limit declared means no bucket."""

    def __init__(
        self, requests_per_period: tuple[int, float] | None, clock: Callable[[], float] = time.monotonic
    ):
        self._limit = requests_per_period
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def try_take(self, account: str) -> float:
        if self._limit is None:
            return 0.0
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = self._buckets[account] = TokenBucket(*self._limit, clock=self._clock)
        return bucket.try_take()

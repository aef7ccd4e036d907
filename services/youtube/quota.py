"""The project's daily YouTube quota, tracked locally so uploads wait for the reset instead of failing.

Source: https://developers.google.com/youtube/v3/getting-started#quota and
https://developers.google.com/youtube/v3/determine_quota_cost — every request costs at least one
unit (even an invalid one); ``videos.insert`` and ``search.list`` have their own buckets of 100
calls a day (1 per call); all other methods share 10,000 units a day; quotas reset at midnight
Pacific Time. Quota belongs to the Google Cloud project (the OAuth client), not the channel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from loa.channels import TransientError

PACIFIC = ZoneInfo("America/Los_Angeles")
INSERT_BUCKET = "videos.insert"
DEFAULT_BUCKET = "default"

# method -> (bucket, units)
COSTS: dict[str, tuple[str, int]] = {
    "videos.insert": (INSERT_BUCKET, 1),
    "videos.list": (DEFAULT_BUCKET, 1),
    "commentThreads.list": (DEFAULT_BUCKET, 1),
    "comments.list": (DEFAULT_BUCKET, 1),
    "comments.insert": (DEFAULT_BUCKET, 50),
    "comments.setModerationStatus": (DEFAULT_BUCKET, 50),
    "videos.update": (DEFAULT_BUCKET, 50),
    "videos.delete": (DEFAULT_BUCKET, 50),
    "thumbnails.set": (DEFAULT_BUCKET, 50),
    "channels.list": (DEFAULT_BUCKET, 1),
    "playlistItems.list": (DEFAULT_BUCKET, 1),
}


def next_reset(now: datetime) -> datetime:
    """The next midnight in America/Los_Angeles (DST-aware), as a UTC time."""
    day = now.astimezone(PACIFIC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=PACIFIC).astimezone(UTC)


class QuotaTracker:
    """Units spent per project and bucket today; refuses a call that would exceed the allowance."""

    def __init__(
        self, daily_units: int, daily_uploads: int, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.limits = {DEFAULT_BUCKET: daily_units, INSERT_BUCKET: daily_uploads}
        self.clock = clock
        self._used: dict[tuple[str, date, str], int] = {}
        self._lock = threading.Lock()

    def _day(self) -> date:
        return self.clock().astimezone(PACIFIC).date()

    def charge(self, project: str, method: str) -> None:
        """Count one call, or raise ``TransientError(retry_at=next reset)`` if its bucket is spent."""
        bucket, units = COSTS[method]
        key = (project, self._day(), bucket)
        with self._lock:
            used = self._used.get(key, 0)
            if used + units > self.limits[bucket]:
                raise self.exhausted(method, f"local tracker: {used} of {self.limits[bucket]} used")
            self._used[key] = used + units

    def mark_exhausted(self, project: str, method: str) -> None:
        """The platform said the bucket is spent (quotaExceeded): believe it until the reset."""
        bucket, _ = COSTS[method]
        with self._lock:
            self._used[(project, self._day(), bucket)] = self.limits[bucket]

    def used(self, project: str, bucket: str) -> int:
        return self._used.get((project, self._day(), bucket), 0)

    def exhausted(self, method: str, detail: str, code: str = "quotaExceeded") -> TransientError:
        retry_at = next_reset(self.clock())
        return TransientError(
            f"YouTube daily quota for {method} is spent ({detail}); waiting for the reset at "
            f"{retry_at.astimezone(PACIFIC):%Y-%m-%d %H:%M %Z}",
            code=code,
            retry_at=retry_at,
        )

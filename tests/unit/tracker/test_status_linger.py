"""The linger after a short batch (``loa.kafka.linger_after``): the tracker's status and content
subscriber and a publisher's intake wait it while the next batch gathers; a full batch, or no
linger, goes on at once. Its effect on a real stream: tests/integration/publisher/test_intake_linger.py."""

from __future__ import annotations

import time

import pytest

from loa.kafka import linger_after
from services.tracker.settings import TrackerSettings

pytestmark = pytest.mark.unit


async def waited(batch: int, most: int, ms: int) -> float:
    start = time.monotonic()
    await linger_after(batch, most, ms)
    return time.monotonic() - start


async def test_a_short_batch_waits_the_linger() -> None:
    assert 0.14 <= await waited(3, 1000, 150) < 1.0


async def test_a_full_batch_or_no_linger_goes_on_at_once() -> None:
    assert await waited(1000, 1000, 150) < 0.05  # a backlog: the next batch is already there
    assert await waited(3, 1000, 0) < 0.05


def test_a_linger_past_two_seconds_is_refused_naming_the_setting() -> None:
    assert TrackerSettings().tracker_status_linger_ms == 500
    with pytest.raises(ValueError, match="tracker_status_linger_ms"):
        TrackerSettings(tracker_status_linger_ms=2500)

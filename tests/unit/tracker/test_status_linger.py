"""The status subscriber's fetch: held by the broker up to the linger (Kafka's ``fetch.max.wait.ms``,
kafka.apache.org/documentation/#consumerconfigs), or answered at once with no linger."""

from __future__ import annotations

import pytest

from loa.kafka import LINGER_MIN_BYTES, linger
from services.tracker.settings import TrackerSettings

pytestmark = pytest.mark.unit


def test_the_broker_holds_a_status_fetch_up_to_the_linger() -> None:
    fetch = linger(TrackerSettings(tracker_status_linger_ms=150).tracker_status_linger_ms)
    assert fetch == {"fetch_min_bytes": LINGER_MIN_BYTES, "fetch_max_wait_ms": 150}


def test_no_linger_keeps_the_client_defaults() -> None:
    assert linger(TrackerSettings(tracker_status_linger_ms=0).tracker_status_linger_ms) == {}


def test_a_linger_past_two_seconds_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="tracker_status_linger_ms"):
        TrackerSettings(tracker_status_linger_ms=2500)

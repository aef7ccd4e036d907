"""When a post due later reaches its platform (``loa.channels.scheduling``), over the boundaries.

Issue #25: a Facebook post due in 10 minutes, or in 40 days, went out at once; so did a YouTube
video due in 60 s. Windows: Facebook 10 min to 30 days (https://developers.facebook.com/docs/pages-api/posts),
YouTube ``publishAt`` in the future (developers.google.com/youtube/v3/docs/videos#status.publishAt).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loa.channels import NativeWindow, TransientError, handover_at, native_due
from loa.channels.scheduling import HANDOVER_SLACK

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
FACEBOOK = NativeWindow(min_lead=timedelta(minutes=15), max_lead=timedelta(days=30))
WORDPRESS = NativeWindow(min_lead=timedelta(seconds=60))
MIN, MAX = FACEBOOK.min_lead, FACEBOOK.max_lead or timedelta(0)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("window", [None, FACEBOOK, WORDPRESS])
def test_no_due_time_or_due_already_goes_now(window: NativeWindow | None) -> None:
    assert handover_at(None, NOW, window) == NOW
    assert handover_at(NOW, NOW, window) == NOW
    assert handover_at(NOW - timedelta(minutes=3), NOW, window) == NOW


def test_a_platform_that_cannot_hold_posts_gets_them_at_their_time() -> None:
    for lead in (SECOND, timedelta(minutes=10), timedelta(days=40)):
        assert handover_at(NOW + lead, NOW, None) == NOW + lead


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        (SECOND, "due"),  # far under the minimum: Loa holds it
        (timedelta(minutes=10), "due"),  # issue #25: went out at once
        (MIN - SECOND, "due"),
        (MIN, "due"),  # inside by less than the slack: the adapter might see it outside
        (MIN + HANDOVER_SLACK - SECOND, "due"),
        (MIN + HANDOVER_SLACK, "now"),
        (timedelta(days=2), "now"),
        (MAX, "now"),
        (MAX + SECOND, "enters"),
        (timedelta(days=40), "enters"),  # issue #25: went out at once
    ],
)
def test_facebook_window_boundaries(lead: timedelta, expected: str) -> None:
    due = NOW + lead
    at = handover_at(due, NOW, FACEBOOK)
    assert at == {"due": due, "now": NOW, "enters": due - MAX}[expected]


def test_a_post_beyond_the_window_is_handed_over_once_inside_it_and_the_platform_takes_it() -> None:
    due = NOW + timedelta(days=40)
    at = handover_at(due, NOW, FACEBOOK)
    assert handover_at(due, at, FACEBOOK) == at  # at that moment: now
    assert native_due(due, at + SECOND, FACEBOOK) == due  # the adapter, a moment later, agrees


def test_late_dispatch_under_the_minimum_waits_for_the_due_time() -> None:
    """Handed over when it entered the window, but dispatched late (a restart): Loa holds it."""
    due = NOW + timedelta(days=40)
    late = due - timedelta(minutes=5)
    assert handover_at(due, late, FACEBOOK) == due


def test_a_window_narrower_than_the_slack_is_never_used_early() -> None:
    narrow = NativeWindow(min_lead=timedelta(seconds=20), max_lead=timedelta(seconds=22))
    due = NOW + timedelta(seconds=40)
    enters = handover_at(due, NOW, narrow)
    assert enters == due - timedelta(seconds=22)
    assert handover_at(due, enters, narrow) == due


def test_the_adapter_agrees_with_every_handover_made_within_the_slack() -> None:
    """Whatever the runtime hands over now, the adapter up to HANDOVER_SLACK later holds natively."""
    for seconds in range(0, 40 * 86400, 3607):
        due = NOW + timedelta(seconds=seconds)
        at = handover_at(due, NOW, FACEBOOK)
        if at != NOW:
            continue
        later = NOW + HANDOVER_SLACK - timedelta(milliseconds=1)
        expected = None if due <= later else due
        assert native_due(due, later, FACEBOOK) == expected


def test_the_adapter_refuses_to_publish_early_outside_the_window() -> None:
    with pytest.raises(TransientError) as caught:
        native_due(NOW + timedelta(minutes=5), NOW, FACEBOOK)
    assert caught.value.code == "not_due"
    assert "held until its time" in caught.value.message
    with pytest.raises(TransientError):
        native_due(NOW + timedelta(days=40), NOW, FACEBOOK)
    with pytest.raises(TransientError):
        native_due(NOW + SECOND, NOW, None)
    assert native_due(NOW, NOW, None) is None
    assert native_due(None, NOW, FACEBOOK) is None
    assert native_due(NOW + timedelta(hours=2), NOW, WORDPRESS) == NOW + timedelta(hours=2)


def test_the_platform_gets_whole_seconds_rounded_up_never_down() -> None:
    due = NOW + timedelta(hours=2, microseconds=700_000)
    assert native_due(due, NOW, FACEBOOK) == NOW + timedelta(hours=2, seconds=1)
    assert native_due(NOW + timedelta(hours=2), NOW, FACEBOOK) == NOW + timedelta(hours=2)


def test_a_window_must_make_sense() -> None:
    with pytest.raises(ValueError, match="min_lead must be positive"):
        NativeWindow(min_lead=timedelta(0))
    with pytest.raises(ValueError, match="under min_lead"):
        NativeWindow(min_lead=timedelta(minutes=10), max_lead=timedelta(minutes=5))


def test_facebook_min_lead_under_ten_minutes_only_against_a_local_sandbox() -> None:
    from services.facebook.settings import FacebookSettings

    assert FacebookSettings(facebook_native_min_lead_s=8).facebook_native_min_lead_s == 8  # the sandbox
    with pytest.raises(ValueError, match="facebook_native_min_lead_s: 300 is under the 600 s"):
        FacebookSettings(facebook_graph_url="https://graph.facebook.com", facebook_native_min_lead_s=300)

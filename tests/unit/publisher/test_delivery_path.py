"""Waiting for a delivery to pass through states (``publisher_helpers.went_through``), not only for
its last one: the cause of the "released, not scheduled again within 30 s" flake of
tests/e2e/test_hold_native.py.

After a release the Facebook publisher moves the pulled-back post ``scheduled`` → ``publishing`` →
``scheduled`` (handed to the platform again) within milliseconds; the relay sends those events
together and the test's reader takes them in one fetch. A wait for the last event to be
``publishing`` then never succeeds, and it timed out after 30 s although the post was back on the
platform's schedule at once.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from loa.events import Delivery, DeliveryState
from tests.integration.publisher.publisher_helpers import went_through

pytestmark = pytest.mark.unit

S = DeliveryState
PULLED_BACK = "đã rút lịch khỏi nền tảng (pulled back from the platform's schedule until the release)"


def event(sequence: int, state: DeliveryState, external_id: str | None = None, note: str = "") -> Delivery:
    return Delivery(
        content_id="khanh-thanh-cau-da-rang",
        version=1,
        channel="facebook",
        account="so-tttt",
        state=state,
        sequence=sequence,
        external_id=external_id,
        note=note or None,
    )


HANDED_OVER = [
    event(1, S.RECEIVED),
    event(2, S.SCHEDULED),
    event(3, S.PUBLISHING),
    event(4, S.SCHEDULED, "310_1"),
]
HELD = [event(5, S.HELD, "310_1", "held by Phạm Thị Đào: Tạm dừng"), event(6, S.HELD, "310_1", PULLED_BACK)]
RELEASED = [event(7, S.SCHEDULED, "310_1", "released by Phạm Thị Đào: Đã xác minh")]
SCHEDULED_AGAIN = [event(8, S.PUBLISHING, "310_1"), event(9, S.SCHEDULED, "310_2")]


def last_is(events: Iterable[Delivery], state: DeliveryState) -> bool:
    """What ``Watcher.until_state`` asks after each read."""
    last = max(events, key=lambda d: d.sequence)
    return last.state is state


def test_a_state_passed_within_one_read_is_never_the_last_one_seen() -> None:
    # The reader's history after the fetch that brought the release's three events at once.
    seen = HANDED_OVER + HELD + RELEASED + SCHEDULED_AGAIN
    assert not last_is(seen, S.PUBLISHING), "the old wait for `publishing` could never end"
    back = went_through(seen, [S.PUBLISHING, S.SCHEDULED], after=6)
    assert back is not None and back.external_id == "310_2", "scheduled again, as a new post"


def test_the_path_counts_only_after_the_event_named() -> None:
    # Before the release the delivery already went publishing → scheduled once: not this time.
    assert went_through(HANDED_OVER + HELD + RELEASED, [S.PUBLISHING, S.SCHEDULED], after=6) is None
    assert went_through(HANDED_OVER + HELD + RELEASED, [S.SCHEDULED], after=6) == RELEASED[0]
    # Mid-way (publishing seen, not scheduled yet): not there.
    midway = HANDED_OVER + HELD + RELEASED + SCHEDULED_AGAIN[:1]
    assert went_through(midway, [S.PUBLISHING, S.SCHEDULED], after=6) is None


def test_the_first_native_handover_is_told_from_the_intake_scheduled() -> None:
    # The intake's `scheduled` (due now) comes before the platform has the post: not handed over yet.
    assert went_through(HANDED_OVER[:2], [S.PUBLISHING, S.SCHEDULED]) is None
    assert went_through(HANDED_OVER, [S.PUBLISHING, S.SCHEDULED]) == HANDED_OVER[-1]


def test_repeats_and_order_of_arrival_do_not_matter() -> None:
    # At least once, and read back out of order: the sequence decides.
    shuffled = list(reversed(SCHEDULED_AGAIN + RELEASED + HELD + HANDED_OVER)) + SCHEDULED_AGAIN
    back = went_through(shuffled, [S.PUBLISHING, S.SCHEDULED], after=6)
    assert back is not None and back.sequence == 9
    assert went_through(shuffled, [S.SCHEDULED, S.PUBLISHING], after=6) is None, "the path's order"

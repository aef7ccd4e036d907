"""The e2e bench's exactly-once check (``bench/e2e/measure.py``): a post on the platform is a second
copy only if no delivery of the run names it.

In the s34 run (docs/benchmarks.md) the 200/s phase left 27,071 deliveries unpublished; their posts
landed in the overload's window, and the check, which knew only the overload's deliveries, counted
7,284 of them as second copies.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.e2e.measure import second_copies
from bench.e2e.observe import Delivery

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def published(content_id: str, channel: str, external_id: str) -> Delivery:
    return Delivery(content_id, channel, "published", AT, AT, external_id, None)


def test_a_post_of_an_earlier_phases_backlog_is_not_a_second_copy() -> None:
    # records 1-3 landed in this phase's window: 1 this phase's, 2 the backlog's, 3 named by none
    record_of = {"x-100": 1, "x-200": 2, "x-300": 3, "x-050": 0}
    this_phase = [published("thong-bao-lich-tiep-dan", "x", "x-100")]
    run = [*this_phase, published("dinh-chinh-tin-sai", "x", "x-200"), published("cu", "x", "x-050")]

    assert second_copies({1, 2, 3}, record_of, "x", this_phase) == {2, 3}
    assert second_copies({1, 2, 3}, record_of, "x", run) == {3}


def test_only_the_channels_own_deliveries_name_its_posts() -> None:
    # the same external id on another platform names nothing here
    record_of = {"a1": 7}
    other = [published("ban-tin-dien-bien", "youtube", "a1")]
    unpublished = [Delivery("ban-tin-dien-bien", "facebook", "publishing", AT, None, None, None)]

    assert second_copies({7}, record_of, "facebook", other + unpublished) == {7}

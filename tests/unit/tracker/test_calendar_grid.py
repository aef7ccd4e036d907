"""The planning calendar's ranges (Monday-first weeks, a month's grid) and what may be moved."""

from __future__ import annotations

from datetime import date

import pytest

from loa.events import DeliveryState
from services.tracker.calendar import MAX_DAYS, checked_range, month_grid, movable, week_of
from services.tracker.reports import RangeError


def test_a_week_runs_monday_to_sunday() -> None:
    week = week_of(date(2026, 12, 6))  # a Sunday
    assert (week.first, week.last) == (date(2026, 11, 30), date(2026, 12, 6))


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        (date(2026, 12, 4), date(2026, 11, 30), date(2027, 1, 3)),  # 1 December is a Tuesday
        (date(2026, 6, 15), date(2026, 6, 1), date(2026, 7, 5)),  # 1 June is a Monday
        (date(2026, 2, 10), date(2026, 1, 26), date(2026, 3, 1)),  # 1 February is a Sunday
        (date(2026, 8, 31), date(2026, 7, 27), date(2026, 9, 6)),  # six weeks
    ],
)
def test_a_months_grid_is_whole_weeks_around_it(day: date, first: date, last: date) -> None:
    grid = month_grid(day)
    assert (grid.first, grid.last) == (first, last)
    assert (grid.end - grid.first).days % 7 == 0 and (grid.end - grid.first).days <= MAX_DAYS


def test_a_range_is_refused_backwards_or_longer_than_six_weeks() -> None:
    with pytest.raises(RangeError, match="to: comes after from"):
        checked_range(date(2026, 3, 2), date(2026, 3, 2))
    with pytest.raises(RangeError, match="at most 42 days"):
        checked_range(date(2026, 3, 1), date(2026, 4, 13))
    assert checked_range(date(2026, 3, 1), date(2026, 4, 12)).last == date(2026, 4, 11)


def test_only_a_scheduled_delivery_the_platform_does_not_hold_may_move() -> None:
    assert movable(DeliveryState.SCHEDULED, None)
    assert not movable(DeliveryState.SCHEDULED, "1234567890_987654321")  # natively scheduled
    for state in set(DeliveryState) - {DeliveryState.SCHEDULED}:
        assert not movable(state, None), state

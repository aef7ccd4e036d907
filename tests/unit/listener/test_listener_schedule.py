"""The polling schedules: a decaying table per kind of read; steps missed while down are not made
up one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.listener.schedule import Read, Schedule, parse_duration
from services.listener.settings import ListenerSettings

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_the_default_table_is_10m_1h_6h_24h_7d_then_daily_to_30_days() -> None:
    offsets = ListenerSettings(mode="development").schedule().offsets
    assert offsets[:5] == (
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(days=1),
        timedelta(days=7),
    )
    assert offsets[5:] == tuple(timedelta(days=d) for d in range(8, 31))


def test_the_next_poll_is_the_first_step_still_ahead() -> None:
    schedule = Schedule.of("10m,1h,6h", "1d", "2d")
    assert schedule.next_poll(T0, T0) == (0, T0 + timedelta(minutes=10))
    assert schedule.next_poll(T0, T0 + timedelta(minutes=10)) == (1, T0 + timedelta(hours=1))
    # down for five hours: one poll at 6 h, not the 1 h one made up late
    assert schedule.next_poll(T0, T0 + timedelta(hours=5)) == (2, T0 + timedelta(hours=6))
    assert schedule.next_poll(T0, T0 + timedelta(hours=7)) == (3, T0 + timedelta(hours=30))
    assert schedule.next_poll(T0, T0 + timedelta(days=2)) is None
    # read early (ahead of its step's time): the next poll is the next step, not the same one again
    assert schedule.next_poll(T0, T0 + timedelta(minutes=5), after=0) == (1, T0 + timedelta(hours=1))


@pytest.mark.parametrize(
    ("steps", "why"),
    [("10m,5m", "increasing"), ("10 phút", "not a duration"), ("", "increasing")],
)
def test_a_bad_table_is_refused_naming_the_setting(steps: str, why: str) -> None:
    with pytest.raises(ValueError, match="LOA_LISTENER_SCHEDULE") as refused:
        ListenerSettings(mode="development", listener_schedule=steps)
    assert why in str(refused.value)


def test_durations() -> None:
    assert parse_duration("1.5s") == timedelta(seconds=1.5)
    assert parse_duration(" 7d") == timedelta(days=7)


def test_comments_have_a_denser_table_of_their_own_to_the_same_end() -> None:
    tables = ListenerSettings(mode="development").schedules()
    comments, figures = tables[Read.COMMENTS].offsets, tables[Read.FIGURES].offsets
    minutes = [10, 20, 40, 60, 120, 240, 480, 1440]
    assert comments[:8] == tuple(timedelta(minutes=m) for m in minutes)
    assert comments[8:] == tuple(timedelta(days=d) for d in range(2, 31))
    # the reads per post the README's quota table counts: 28 of the figures, 37 of the comments
    assert (len(figures), len(comments)) == (28, 37)
    # in the first hour the watch sees the comments four times, where the figures' table reads twice
    hour = timedelta(hours=1)
    assert (sum(o <= hour for o in comments), sum(o <= hour for o in figures)) == (4, 2)


def test_a_bad_comment_table_is_refused_naming_its_setting() -> None:
    with pytest.raises(ValueError, match="LOA_LISTENER_COMMENT_SCHEDULE") as refused:
        ListenerSettings(mode="development", listener_comment_schedule="20m,10m")
    assert "increasing" in str(refused.value)

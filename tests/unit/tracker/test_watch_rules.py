"""The watch's rules: Vietnamese phrases by whole word, diacritics and đ; the comment volume spike."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from services.tracker.watch import DEFAULT_PHRASES, VolumeRule, check_phrase, first_match

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Đây là TIN GIẢ, mọi người đừng chia sẻ!", "tin giả"),
        ("Thông tin sai sự thật.", "sai sự thật"),
        ("Cảnh giác lừa đảo qua điện thoại", "lừa đảo"),
        ("canh giac lua dao qua dien thoai", "lừa đảo"),  # typed without marks: đ → d
        ("LUA DAO het", "lừa đảo"),
        ("bài này là tin gia", "tin giả"),
        ("Lừa   đảo!!!", "lừa đảo"),  # any spacing and punctuation between the words
        (unicodedata.normalize("NFD", "Đúng là lừa đảo"), "lừa đảo"),  # decomposed input
    ],
)
def test_a_watched_phrase_matches_whatever_the_case_marks_and_form(text: str, phrase: str) -> None:
    assert first_match(text, DEFAULT_PHRASES) == phrase


def test_a_phrase_typed_without_marks_matches_every_spelling() -> None:
    assert first_match("Đây là lừa đảo", ["lua dao"]) == "lua dao"
    assert first_match("Dịch vụ đăng ký hộ", ["dang ky ho"]) == "dang ky ho"


@pytest.mark.parametrize(
    "text",
    [
        "Lừađảo123 là tên một tài khoản",  # inside a longer word
        "Giá điện giảm: tin giảm giá từ tháng 12",  # "tin giảm" is not "tin giả"
        "Bản tin giá vàng hôm nay tăng nhẹ",  # "giá" (price) and "giả" (false) differ by tone alone
        "Lúa đào ở Đồng Tháp được mùa",  # a rice variety, not fraud: both sides carry marks
        "Cảm ơn thành phố đã thông tin kịp thời.",
        "Sự thật là đường Nguyễn Văn Linh đã hết ngập.",  # "sự thật" without "sai"
    ],
)
def test_ordinary_prose_raises_nothing(text: str) -> None:
    assert first_match(text, DEFAULT_PHRASES) is None


def test_a_phrase_is_checked_and_stored_in_nfc() -> None:
    assert check_phrase(unicodedata.normalize("NFD", "  tin   giả ")) == "tin giả"
    with pytest.raises(ValueError, match=r"phrases: .* has no word"):
        check_phrase(" !!! ")


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_a_burst_against_a_quiet_baseline_is_a_spike_and_a_steady_rate_is_not() -> None:
    rule = VolumeRule(factor=3.0, minimum=10, baseline_h=6)
    steady = minutes_ago(*range(5, 400, 12))  # five an hour for six hours and more
    assert rule.spike(steady, NOW) is None
    burst = steady + minutes_ago(*[30 + i * 0.5 for i in range(30)])
    found = rule.spike(burst, NOW)
    assert found is not None and found[0] == 35 and found[1] == pytest.approx(5, abs=0.5)
    assert VolumeRule(factor=10.0).spike(burst, NOW) is None  # k is the setting


def test_no_baseline_no_spike_and_few_comments_are_never_one() -> None:
    rule = VolumeRule(factor=3.0, minimum=10)
    assert rule.spike(minutes_ago(*range(1, 50)), NOW) is None  # all within the first hour
    assert rule.spike(minutes_ago(300, 5, 4, 3), NOW) is None  # below the minimum

"""YouTube rendering rules and the quota clock, with Vietnamese text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loa.channels import TransientError
from services.youtube import render
from services.youtube.quota import QuotaTracker, next_reset

pytestmark = pytest.mark.unit
PARAGRAPH = (
    "Đồng chí Đặng Thị Ngọc Thịnh nhấn mạnh việc đẩy mạnh chuyển đổi số trong các cơ quan nhà nước, "
    "bảo đảm an toàn thông tin và nâng cao chất lượng phục vụ người dân, doanh nghiệp. "
)


def test_a_long_title_is_cut_at_a_word_with_an_ellipsis() -> None:
    title = render.render_title("Thông cáo báo chí " + "về chuyển đổi số quốc gia " * 8)
    assert len(title) <= 100
    assert title.endswith("…")
    assert title[:-1] == title[:-1].rstrip()
    assert not title[:-1].endswith(" ")
    assert ("Thông cáo báo chí " + "về chuyển đổi số quốc gia " * 8).startswith(title[:-1])


def test_title_drops_angle_brackets_youtube_refuses() -> None:
    assert render.render_title("Kết quả <b>bầu cử</b> Đà Nẵng") == "Kết quả ‹b›bầu cử‹/b› Đà Nẵng"


def test_description_fits_5000_utf8_bytes_and_keeps_the_link_and_hashtags() -> None:
    link = "https://bo-thong-tin.gov.vn/2026/11/hop-bao-abcdef12.html"
    description = render.render_description(PARAGRAPH * 60, link, ["chuyển đổi số", "Đà Nẵng"])
    assert len(description.encode("utf-8")) <= 5000
    assert len(description) < 5000 - 1000  # Vietnamese: far fewer characters than bytes
    summary, kept_link, hashtags = description.split("\n\n")
    assert summary.endswith("…")
    assert PARAGRAPH.startswith(summary[:40])
    assert kept_link == link
    assert hashtags == "#chuyểnđổisố #ĐàNẵng"


def test_a_short_description_is_untouched() -> None:
    link = "https://bo-thong-tin.gov.vn/a.html"
    assert render.render_description("Tóm tắt ngắn.", link, []) == f"Tóm tắt ngắn.\n\n{link}"


def test_tags_are_counted_as_youtube_counts_them() -> None:
    # "Foo-Baz" counts 7, "Foo Baz" counts 9 (quotes), plus a comma between tags.
    assert render.tags_length(["Foo-Baz"]) == 7
    assert render.tags_length(["Foo Baz"]) == 9
    assert render.tags_length(["Foo-Baz", "Foo Baz"]) == 17


def test_tags_stop_at_500_characters_and_keep_the_marker_first() -> None:
    many = [f"chuyển đổi số tỉnh {i:02d}" for i in range(40)]
    tags = render.render_tags("loa-0123456789abcdef", many)
    assert tags[0] == "loa-0123456789abcdef"
    assert render.tags_length(tags) <= 500
    assert len(tags) < 41
    assert render.tags_length([*tags, many[len(tags) - 1]]) > 500


def test_next_reset_is_pacific_midnight_across_daylight_saving() -> None:
    summer = next_reset(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))  # PDT, UTC-7
    winter = next_reset(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))  # PST, UTC-8
    assert summer == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    assert winter == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_the_tracker_refuses_past_the_allowance_until_the_reset() -> None:
    now = datetime(2026, 11, 26, 7, 59, tzinfo=UTC)  # 23:59 Pacific
    tracker = QuotaTracker(daily_units=100, daily_uploads=1, clock=lambda: now)
    tracker.charge("p", "videos.insert")
    tracker.charge("p", "videos.update")  # 50
    tracker.charge("p", "videos.update")  # 100
    with pytest.raises(TransientError) as caught:
        tracker.charge("p", "videos.list")
    assert caught.value.retry_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    with pytest.raises(TransientError):
        tracker.charge("p", "videos.insert")
    tracker.charge("other-project", "videos.insert")  # quota is per project
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # midnight Pacific: a new day
    tracker.charge("p", "videos.insert")


def test_an_editors_own_text_is_refused_whole_rather_than_cut() -> None:
    link = "https://bo-thong-tin.gov.vn/2026/11/hop-bao-abcdef12.html"
    fits = PARAGRAPH * 20  # about 3,000 bytes: kept whole, hashtags too
    assert render.render_description(fits, link, ["Đà Nẵng"], may_shorten=False).startswith(fits.strip())
    with pytest.raises(ValueError, match=r"^text: \d+ UTF-8 bytes, at most \d+ fit"):
        render.render_description(PARAGRAPH * 40, link, ["Đà Nẵng"], may_shorten=False)

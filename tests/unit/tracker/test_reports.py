"""The leadership report on SQLite: counts per unit and channel, the on-time bound, the office's
days as the range's edges, the latest figures summed (none where there are none), the CSV a
spreadsheet opens and the chart's size."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import (
    ContentRetracted,
    DeliveryState,
    ErrorClass,
    Metric,
    Retraction,
)
from services.tracker import report_chart
from services.tracker.db import make_engine, migrate
from services.tracker.engagement import record_samples
from services.tracker.i18n import Translator
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.reports import AUDIENCE, Range, RangeError, Report, days, month_of, parse_month, report
from services.tracker.reports_api import csv_text
from tests.integration.tracker.support import approved, observed, status

pytestmark = pytest.mark.unit
SO_Y_TE = "Sở Y tế Đà Nẵng"
VAN_PHONG = "Văn phòng Bộ"
MARCH = Range(date(2026, 3, 1), date(2026, 4, 1))
MIDNIGHT = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
"""00:00 on 1 March 2026 in Asia/Ho_Chi_Minh (UTC+7): where the office's March begins."""
WINDOW = 60.0


def sec(n: float) -> timedelta:
    return timedelta(seconds=n)


async def seeded(tmp_path: Path) -> AsyncEngine:
    """Six contents around the start of March (office time), two units, four channels."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    await migrate(engine)
    due = MIDNIGHT + timedelta(days=3)  # 4 March, 07:00 in Vietnam
    fb, yt, web, zalo = (
        ("facebook", "trang-so-y-te"),
        ("youtube", "kenh-so-y-te"),
        ("website", "main"),
        ("zalo", "oa-bo"),
    )
    await apply_content_events(
        engine,
        [
            approved(
                "tiem-chung-mo-rong",
                [fb, yt],
                unit=SO_Y_TE,
                approved_at=due - sec(3600),
                publish_at=due,
                title="Đợt tiêm chủng mở rộng tháng 3 tại Đà Nẵng",
            ),
            approved(
                "phong-chong-sot-xuat-huyet",
                [fb, web],
                unit=SO_Y_TE,
                approved_at=due - sec(3600),
                publish_at=due,
                title="Phòng chống sốt xuất huyết: khuyến cáo của Sở Y tế",
            ),
            approved(
                "lich-tiep-cong-dan",
                [fb, zalo],
                unit=VAN_PHONG,
                approved_at=due - sec(3600),
                publish_at=due,
                title="Lịch tiếp công dân của Lãnh đạo Bộ",
            ),
            # due one second before March begins in Vietnam (16:59:59 UTC on 28 February): February's
            approved(
                "thong-bao-cuoi-thang-hai",
                [fb],
                unit=SO_Y_TE,
                approved_at=MIDNIGHT - sec(7200),
                publish_at=MIDNIGHT - sec(1),
                title="Thông báo cuối tháng Hai",
            ),
            # due at 00:00 on 1 March in Vietnam exactly: March's (the range starts there, included)
            approved(
                "thong-bao-dau-thang-ba",
                [fb],
                unit=SO_Y_TE,
                approved_at=MIDNIGHT - sec(7200),
                publish_at=MIDNIGHT,
                title="Thông báo đầu tháng Ba",
            ),
            # due at 00:00 on 1 April in Vietnam: April's (the range's end is excluded)
            approved(
                "thong-bao-dau-thang-tu",
                [fb],
                unit=SO_Y_TE,
                approved_at=MIDNIGHT - sec(3600),
                publish_at=datetime(2026, 3, 31, 17, 0, tzinfo=UTC),
                title="Thông báo đầu tháng Tư",
            ),
        ],
    )
    april = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
    failed = (ErrorClass.AUTH, "190", "Error validating access token: Session has expired")
    pub = DeliveryState.PUBLISHED
    await apply_statuses(
        engine,
        [
            # the bound: 60 s after the due time is on time, 60.5 s is late, early is on time
            status("tiem-chung-mo-rong", *fb, pub, 2, at=due + sec(60), due_at=due),
            status("tiem-chung-mo-rong", *yt, pub, 2, at=due + sec(60.5), due_at=due),
            status("phong-chong-sot-xuat-huyet", *fb, pub, 2, at=due - sec(5), due_at=due),
            status("phong-chong-sot-xuat-huyet", *web, pub, 2, at=due + sec(10), due_at=due),
            status(
                "lich-tiep-cong-dan", *fb, DeliveryState.FAILED, 3, at=due + sec(20), due_at=due, error=failed
            ),
            status("lich-tiep-cong-dan", *zalo, pub, 2, at=due + sec(15), due_at=due),
            status("thong-bao-cuoi-thang-hai", *fb, pub, 2, at=MIDNIGHT, due_at=MIDNIGHT - sec(1)),
            status("thong-bao-dau-thang-ba", *fb, pub, 2, at=MIDNIGHT + sec(3), due_at=MIDNIGHT),
            status("thong-bao-dau-thang-tu", *fb, pub, 2, at=april + sec(1), due_at=april),
        ],
    )
    # taken down after it went out: still published in March (and on time), and counted as taken down
    await apply_content_events(
        engine,
        [
            ContentRetracted(
                payload=Retraction(
                    id="phong-chong-sot-xuat-huyet", reason="Thông tin đã cũ", requested_by="Trần Văn Đức"
                )
            )
        ],
    )
    await apply_statuses(
        engine, [status("phong-chong-sot-xuat-huyet", *web, DeliveryState.RETRACTED, 3, at=due + sec(3600))]
    )
    later = due + timedelta(days=1)
    await record_samples(
        engine,
        [
            observed(
                "tiem-chung-mo-rong",
                *fb,
                later,
                {Metric.REACH: 900, Metric.IMPRESSIONS: 1500, Metric.REACTIONS: 40},
            ),
            # the newest reading of each figure counts, not their sum
            observed(
                "tiem-chung-mo-rong",
                *fb,
                later + sec(3600),
                {
                    Metric.REACH: 12480,
                    Metric.IMPRESSIONS: 20000,
                    Metric.REACTIONS: 316,
                    Metric.COMMENTS: 18,
                    Metric.SHARES: 25,
                },
            ),
            observed(
                "phong-chong-sot-xuat-huyet",
                *fb,
                later,
                {Metric.REACH: 3520, Metric.REACTIONS: 84, Metric.COMMENTS: 7, Metric.SHARES: 3},
            ),
            observed(
                "tiem-chung-mo-rong",
                *yt,
                later,
                {Metric.VIEWS: 2734, Metric.REACTIONS: 51, Metric.COMMENTS: 9},
            ),
            # a post of February and one of April: not in March's figures
            observed("thong-bao-cuoi-thang-hai", *fb, later, {Metric.REACH: 100000}),
            observed("thong-bao-dau-thang-tu", *fb, april + sec(60), {Metric.REACH: 200000}),
        ],
    )
    return engine


def rows(found: Report) -> dict[tuple[str, str], dict[str, object]]:
    return {(r.unit, r.channel): r.model_dump(mode="json", exclude={"unit", "channel"}) for r in found.rows}


async def test_march_per_unit_and_channel(tmp_path: Path) -> None:
    engine = await seeded(tmp_path)
    try:
        found = await report(engine, MARCH, WINDOW)
    finally:
        await engine.dispose()
    assert (found.since.isoformat(), found.until.isoformat()) == (
        "2026-03-01T00:00:00+07:00",
        "2026-04-01T00:00:00+07:00",
    )
    assert found.last_day == date(2026, 3, 31) and found.not_built == ["comments_answered", "alerts"]
    assert rows(found) == {
        (SO_Y_TE, "facebook"): {
            "deliveries": 3, "published": 3, "on_time": 3, "on_time_rate": 1.0, "failed": 0, "retracted": 0,
            "audience_metric": "reach", "audience": 12480 + 3520, "reactions": 316 + 84, "comments": 18 + 7,
            "shares": 25 + 3, "posts_with_figures": 2,
        },
        (SO_Y_TE, "website"): {
            "deliveries": 1, "published": 1, "on_time": 1, "on_time_rate": 1.0, "failed": 0, "retracted": 1,
            "audience_metric": "views", "audience": None, "reactions": None, "comments": None, "shares": None,
            "posts_with_figures": 0,
        },
        (SO_Y_TE, "youtube"): {
            "deliveries": 1, "published": 1, "on_time": 0, "on_time_rate": 0.0, "failed": 0, "retracted": 0,
            "audience_metric": "views", "audience": 2734, "reactions": 51, "comments": 9, "shares": None,
            "posts_with_figures": 1,
        },
        (VAN_PHONG, "facebook"): {
            "deliveries": 1, "published": 0, "on_time": 0, "on_time_rate": None, "failed": 1, "retracted": 0,
            "audience_metric": "reach", "audience": None, "reactions": None, "comments": None, "shares": None,
            "posts_with_figures": 0,
        },
        (VAN_PHONG, "zalo"): {
            "deliveries": 1, "published": 1, "on_time": 1, "on_time_rate": 1.0, "failed": 0, "retracted": 0,
            "audience_metric": None, "audience": None, "reactions": None, "comments": None, "shares": None,
            "posts_with_figures": 0,
        },
    }  # fmt: skip


async def test_the_edges_are_the_office_midnights_and_units_narrow_it(tmp_path: Path) -> None:
    engine = await seeded(tmp_path)
    try:
        february = await report(engine, month_of(date(2026, 2, 14)), WINDOW)
        april = await report(engine, parse_month("2026-04"), WINDOW)
        first_day = await report(engine, days(date(2026, 3, 1), date(2026, 3, 2)), WINDOW)
        one_unit = await report(engine, MARCH, WINDOW, frozenset({VAN_PHONG}))
        nobody = await report(engine, MARCH, WINDOW, frozenset())
    finally:
        await engine.dispose()
    assert [(r.unit, r.channel, r.published, r.audience) for r in february.rows] == [
        (SO_Y_TE, "facebook", 1, 100000)
    ]
    assert [(r.unit, r.channel, r.published, r.audience) for r in april.rows] == [
        (SO_Y_TE, "facebook", 1, 200000)
    ]
    assert [(r.unit, r.channel, r.published, r.on_time) for r in first_day.rows] == [
        (SO_Y_TE, "facebook", 1, 1)
    ]
    assert {r.unit for r in one_unit.rows} == {VAN_PHONG}
    assert nobody.rows == []


def test_ranges_are_refused_with_the_parameter_and_the_reason() -> None:
    with pytest.raises(RangeError, match="to: 2026-03-01 is not after from=2026-03-01"):
        days(date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(RangeError, match="to: the range is 730 days; at most 400"):
        days(date(2025, 1, 1), date(2027, 1, 1))
    with pytest.raises(RangeError, match="month: '2026-13' is not a month written YYYY-MM"):
        parse_month("2026-13")
    # the calendar's ends have no UTC in Vietnam's time: refused, not a server error
    with pytest.raises(RangeError, match="from: 0001-01-01 is not between 2000-01-01 and 2099-12-31"):
        days(date(1, 1, 1), date(1, 1, 2))
    with pytest.raises(RangeError, match="to: 9999-12-31 is after 2100-01-01, the latest end of a report"):
        days(date(2099, 12, 1), date(9999, 12, 31))
    with pytest.raises(RangeError, match="month: 9999-12-01 is not between"):
        parse_month("9999-12")
    assert days(date(2099, 12, 31), date(2100, 1, 1)).last == date(2099, 12, 31)
    assert parse_month("2026-12") == Range(date(2026, 12, 1), date(2027, 1, 1))
    assert set(AUDIENCE) == {"facebook", "youtube", "x", "website"}


async def test_the_csv_opens_in_a_spreadsheet_in_vietnamese_with_no_made_up_zeros(tmp_path: Path) -> None:
    engine = await seeded(tmp_path)
    try:
        found = await report(engine, MARCH, WINDOW)
    finally:
        await engine.dispose()
    text = csv_text(found, Translator("vi"))
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == [
        "Đơn vị", "Kênh", "Lượt phát hành trong kỳ", "Đã đăng", "Đúng giờ", "Tỷ lệ đúng giờ", "Lỗi",
        "Đã gỡ", "Chỉ số tiếp cận/xem", "Tiếp cận / lượt xem", "Cảm xúc/Thích", "Bình luận", "Chia sẻ",
        "Bài đã có số liệu",
    ]  # fmt: skip
    by_row = {(r[0], r[1]): r for r in table[1:]}
    assert by_row[(SO_Y_TE, "Facebook")] == [
        SO_Y_TE, "Facebook", "3", "3", "3", "1.0", "0", "0", "Người tiếp cận", "16000", "400", "25", "28", "2"
    ]  # fmt: skip
    assert by_row[(SO_Y_TE, "YouTube")][8:13] == ["Lượt xem", "2734", "51", "9", ""]
    assert by_row[(VAN_PHONG, "Zalo OA")][5:] == ["1.0", "0", "0", "", "", "", "", "", "0"]
    assert by_row[(VAN_PHONG, "Facebook")][5] == ""  # nothing published: no rate, not 0 %
    english = list(csv.reader(io.StringIO(csv_text(found, Translator("en"))[1:])))
    assert english[0][:4] == ["Unit", "Channel", "Deliveries due", "Published"]


async def test_the_chart_has_a_row_per_unit_and_channel_in_png_and_pdf(tmp_path: Path) -> None:
    engine = await seeded(tmp_path)
    try:
        found = await report(engine, MARCH, WINDOW)
    finally:
        await engine.dispose()
    image = Image.open(io.BytesIO(report_chart.render(found, Translator("vi"))))
    assert image.format == "PNG"
    assert image.size == report_chart.size_px(found) == (1200, 170 + 5 * 34)
    assert report_chart.render(found, Translator("vi"), "pdf").startswith(b"%PDF-")
    empty = Report.model_validate(found.model_dump() | {"rows": []})
    assert Image.open(io.BytesIO(report_chart.render(empty, Translator("en")))).size == (1200, 170 + 34)

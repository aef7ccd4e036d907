"""The report's comments and alerts on SQLite: counted by when they came in the office's days, answered
by the first move to answered or hidden, an alert by the first answer in its scope after it was raised
(its post; a unit's spike: the whole unit), medians in seconds, none where nothing was answered."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.tracker.db import make_engine, migrate
from services.tracker.i18n import Translator
from services.tracker.queries import UNKNOWN_UNIT
from services.tracker.reports import Range, report
from services.tracker.reports_api import csv_text
from services.tracker.tables import post_comments, watch_alerts

pytestmark = pytest.mark.unit
SO_Y_TE = "Sở Y tế Đà Nẵng"
VAN_PHONG = "Văn phòng Bộ"
MARCH = Range(date(2026, 3, 1), date(2026, 4, 1))
MIDNIGHT = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
"""00:00 on 1 March 2026 in Asia/Ho_Chi_Minh."""
LISTENING = (
    "comments_received",
    "comments_answered",
    "comment_answer_median_s",
    "alerts",
    "alerts_answered",
    "alert_answer_median_s",
)


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def comment(
    n: int,
    unit: str | None,
    channel: str,
    content: str,
    text: str,
    written: datetime,
    answered: datetime | None,
) -> dict[str, Any]:
    return {
        "channel": channel,
        "account": f"tk-{channel}",
        "external_id": f"{content}_{n}",
        "content_id": content,
        "post_external_id": f"post-{content}",
        "unit": unit,
        "author": "Nguyễn Thị Đào",
        "text": text,
        "created_at": written,
        "observed_at": written + timedelta(minutes=10),
        "state": "answered" if answered else "new",
        "answered_at": answered,
    }


def alert(n: int, kind: str, unit: str, channel: str, content: str, raised: datetime) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-0000-0000-{n:012d}",
        "kind": kind,
        "unit": unit,
        "content_id": content,
        "channel": channel,
        "detail": 'bình luận mới chứa "tin giả"',
        "raised_at": raised,
    }


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    await migrate(made)
    said = "Có phải tin giả không ạ? Đề nghị Sở đính chính."
    comments = [
        comment(1, SO_Y_TE, "facebook", "tiem-chung", said, at(1), at(1.5)),  # answered in 30 min
        comment(2, SO_Y_TE, "facebook", "tiem-chung", "Lịch tiêm ở phường nào?", at(2), at(4)),  # 2 h
        comment(3, SO_Y_TE, "facebook", "tiem-chung", "Cảm ơn Sở.", at(3), None),
        comment(4, SO_Y_TE, "facebook", "tiem-chung", "Cuối tháng Hai", at(0) - timedelta(seconds=1), at(1)),
        comment(5, VAN_PHONG, "x", "tiep-dan", "Lịch tiếp dân thế nào?", at(5), at(5 + 1 / 6)),
        comment(6, None, "youtube", "khong-ro", "Đường dây nóng là số nào?", at(24), None),
    ]  # fmt: skip
    alerts = [
        alert(1, "phrase", SO_Y_TE, "facebook", "tiem-chung", at(1) + timedelta(minutes=10)),
        alert(2, "volume", SO_Y_TE, "facebook", "tiem-chung", at(3) + timedelta(minutes=10)),
        alert(3, "unit_volume", VAN_PHONG, "facebook", "lich-hop", at(4)),
        alert(4, "phrase", SO_Y_TE, "x", "tiem-chung", at(6)),
        alert(5, "phrase", SO_Y_TE, "facebook", "tiem-chung", MIDNIGHT + timedelta(days=31)),  # April
    ]
    async with made.begin() as conn:
        await conn.execute(insert(post_comments), comments)
        await conn.execute(insert(watch_alerts), alerts)
    yield made
    await made.dispose()


def listening(rows: list[Any]) -> dict[tuple[str, str], tuple[object, ...]]:
    return {(r.unit, r.channel): tuple(getattr(r, k) for k in LISTENING) for r in rows}


async def test_comments_and_alerts_of_march_answered_and_how_fast(engine: AsyncEngine) -> None:
    found = await report(engine, MARCH, 60.0)
    assert listening(found.rows) == {
        # the 30 min and 2 h answers: median 75 min; the February comment is not March's
        # alerts: the phrase at 01:10 answered by the 01:30 answer (20 min), the spike at 03:10 by the
        # 04:00 one (50 min): median 35 min
        (SO_Y_TE, "facebook"): (3, 2, 4500.0, 2, 2, 2100.0),
        # an alert on X whose post nobody answered: counted, not answered, no median
        (SO_Y_TE, "x"): (0, 0, None, 1, 0, None),
        # the unit's spike is answered by the unit's first answer after it, on any channel (X, 05:10)
        (VAN_PHONG, "facebook"): (0, 0, None, 1, 1, 4200.0),
        (VAN_PHONG, "x"): (1, 1, 600.0, 0, 0, None),
        (UNKNOWN_UNIT, "youtube"): (1, 0, None, 0, 0, None),
    }
    assert all(r.deliveries == 0 for r in found.rows)  # comments on posts of other months: rows anyway


async def test_a_unit_narrows_them_and_the_csv_leaves_no_median_empty(engine: AsyncEngine) -> None:
    own = await report(engine, MARCH, 60.0, frozenset({VAN_PHONG}))
    assert set(listening(own.rows)) == {(VAN_PHONG, "facebook"), (VAN_PHONG, "x")}
    april = await report(engine, Range(date(2026, 4, 1), date(2026, 5, 1)), 60.0)
    assert listening(april.rows) == {(SO_Y_TE, "facebook"): (0, 0, None, 1, 0, None)}
    table = list(csv.reader(io.StringIO(csv_text(own, Translator("vi"))[1:])))
    assert table[0][-6:] == [
        "Bình luận nhận được", "Bình luận đã trả lời/ẩn", "Thời gian trả lời bình luận, trung vị (giây)",
        "Cảnh báo tin sai lệch", "Cảnh báo đã xử lý", "Thời gian xử lý cảnh báo, trung vị (giây)",
    ]  # fmt: skip
    by_channel = {r[1]: r[-6:] for r in table[1:]}
    assert by_channel == {
        "Facebook": ["0", "0", "", "1", "1", "4200.0"],
        "X": ["1", "1", "600.0", "0", "0", ""],
    }

"""``loa publish --dry-run`` shows what each channel would receive, counted as the channel counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loa.channels.preview import previews
from loa.events import Content, Target
from loa.settings import LoaSettings
from services.x.counting import weighted_length

pytestmark = pytest.mark.unit

LONG = " ".join(["Bộ Thông tin và Truyền thông đề nghị các đơn vị đẩy mạnh chuyển đổi số."] * 8)


def _content(**changes: object) -> Content:
    base: dict[str, object] = {
        "id": "tb-dry-run-01",
        "version": 1,
        "title": "Đẩy mạnh chuyển đổi số ở cấp xã",
        "summary": LONG,
        "unit": "Vụ Thông tin cơ sở",
        "approved_by": "Lê Văn Đạt",
        "approved_at": datetime(2026, 11, 26, 8, tzinfo=UTC),
        "targets": [
            Target(channel="x", account="bo"),
            Target(channel="zalo", account="oa"),
            Target(channel="nope", account="a"),
        ],
    }
    return Content(**{**base, **changes})


def test_each_target_is_rendered_by_its_own_adapter_and_counted_its_way() -> None:
    by_channel = {p.target.channel: p for p in previews(_content(), LoaSettings())}
    x = by_channel["x"]
    assert x.problem is None
    assert len(x.texts) > 1  # a thread
    assert all(count == weighted_length(text) and count <= 280 for text, count, _ in x.texts)
    zalo = by_channel["zalo"]
    assert zalo.title == "Đẩy mạnh chuyển đổi số ở cấp xã"
    assert [limit for _, _, limit in zalo.texts] == [300]
    assert "nope" in (by_channel["nope"].problem or "")


def test_a_limit_the_channel_cannot_meet_is_named() -> None:
    content = _content(targets=[Target(channel="zalo", account="oa", title="Tiêu đề " * 30)])
    (preview,) = previews(content, LoaSettings())
    assert preview.problem is not None
    assert "title" in preview.problem

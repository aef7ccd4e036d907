"""CSV exports neutralise cells a spreadsheet would run as formulas (OWASP "CSV Injection")."""

import csv
import io

from services.tracker.api import _csv

ROWS: list[dict[str, object]] = [
    {"title": '=HYPERLINK("https://evil.example","Bấm vào đây")', "message": "@SUM(1+1)*cmd|' /C calc'!A0"},
    {"title": "+84 24 3823 4567", "message": "-2 lượt thử còn lại"},
    {"title": "Đà Nẵng đón khách quốc tế", "message": "Lỗi 190: mã truy cập đã hết hạn"},
]


def cells() -> list[dict[str, str]]:
    body = bytes(_csv(ROWS, ["title", "message"], "x.csv").body).decode("utf-8").lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(body)))


def test_formula_starts_are_prefixed_with_a_quote() -> None:
    rows = cells()
    assert rows[0]["title"] == '\'=HYPERLINK("https://evil.example","Bấm vào đây")'
    assert rows[0]["message"].startswith("'@SUM")
    assert [rows[1]["title"], rows[1]["message"]] == ["'+84 24 3823 4567", "'-2 lượt thử còn lại"]


def test_ordinary_vietnamese_text_is_untouched() -> None:
    assert cells()[2] == {"title": "Đà Nẵng đón khách quốc tế", "message": "Lỗi 190: mã truy cập đã hết hạn"}

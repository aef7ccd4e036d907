"""Vietnamese slugs and canonical article URLs: deterministic, folded, stable."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from loa.events import Content
from loa.links import article_path, canonical_url, short_id
from loa.text import fold_vietnamese, slugify

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        (
            "Đại hội đại biểu toàn quốc lần thứ XIV của Đảng",
            "dai-hoi-dai-bieu-toan-quoc-lan-thu-xiv-cua-dang",
        ),
        ("ĐƯỜNG DÂY NÓNG: Ứng phó bão số 13", "duong-day-nong-ung-pho-bao-so-13"),
        (
            "Thủ tướng chỉ đạo khắc phục hậu quả mưa lũ ở miền Trung",
            "thu-tuong-chi-dao-khac-phuc-hau-qua-mua-lu-o-mien-trung",
        ),
        ("Quyết định số 1234/QĐ-TTg ngày 26/11/2026", "quyet-dinh-so-1234-qd-ttg-ngay-26-11-2026"),
        ("Ơn nghĩa – Ưu tiên — “trích dẫn”", "on-nghia-uu-tien-trich-dan"),
        ("Ðà Nẵng (eth look-alike)", "da-nang-eth-look-alike"),
        ("!!!", "bai-viet"),
    ],
)
def test_slugify_folds_vietnamese(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slugify_accepts_decomposed_input() -> None:
    title = "Đồng bằng sông Cửu Long"
    assert slugify(unicodedata.normalize("NFD", title)) == slugify(title) == "dong-bang-song-cuu-long"


def test_every_vietnamese_letter_folds_to_ascii() -> None:
    letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    folded = fold_vietnamese(letters + letters.upper())
    assert folded.isascii()
    assert set(folded.lower()) == set("aeiouyd")


def test_slugify_cuts_long_titles_at_a_word() -> None:
    slug = slugify("Hội nghị trực tuyến toàn quốc " * 10, max_length=40)
    assert len(slug) <= 40
    assert not slug.endswith("-")
    assert slug.startswith("hoi-nghi-truc-tuyen-toan-quoc")


def _content(**overrides: object) -> Content:
    data: dict[str, object] = {
        "id": "01JD5Z8Q4M9R3T7V2X6Y0ABCDE",
        "version": 1,
        "title": "Đại hội Đảng bộ tỉnh Quảng Trị",
        "unit": "Văn phòng Bộ",
        "approved_by": "Nguyễn Văn An",
        "approved_at": datetime(2026, 11, 26, 7, 30, tzinfo=UTC),
        "targets": [{"channel": "website", "account": "main"}],
    }
    data.update(overrides)
    return Content.model_validate(data)


def test_article_path_uses_the_vietnam_date_and_short_id() -> None:
    # 2026-11-30 18:00 UTC is already 1 December in Asia/Ho_Chi_Minh (UTC+7).
    content = _content(approved_at=datetime(2026, 11, 30, 18, 0, tzinfo=UTC))
    assert article_path(content) == "/2026/12/dai-hoi-dang-bo-tinh-quang-tri-6y0abcde.html"
    assert short_id(content.id) == "6y0abcde"


def test_canonical_url_is_deterministic_and_keeps_a_fixed_url() -> None:
    content = _content()
    url = canonical_url(content, "https://example.gov.vn/")
    assert url == "https://example.gov.vn/2026/11/dai-hoi-dang-bo-tinh-quang-tri-6y0abcde.html"
    assert canonical_url(content, "https://example.gov.vn") == url
    fixed = _content(title="Tiêu đề đã sửa", canonical_url=url)
    assert canonical_url(fixed, "https://example.gov.vn") == url

"""Reading a Markdown article with YAML front matter."""

from __future__ import annotations

from pathlib import Path

import pytest

from loa.cli.article import ArticleError, load_article, parse_targets, zoned
from loa.events import Content

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "thong-cao-bao-chi.md"


def test_the_sample_reads_into_a_valid_content() -> None:
    article = load_article(SAMPLE)
    assert article.payload["id"] == "tcbc-2026-chuyen-doi-so"
    assert article.payload["unit"] == "Vụ Truyền thông và Báo chí"
    assert "<h2>Thông tin liên hệ</h2>" in article.payload["body"]
    assert [m.path.name for m in article.media] == ["anh-bia.jpg", "video-ngan.mp4"]
    assert [m.content_type for m in article.media] == ["image/jpeg", "video/mp4"]
    assert "approved_by" not in article.payload  # the ingest sets it; the front matter's is a claim
    assert article.payload["approver_claim"] == "Chánh Văn phòng Bộ"
    payload = {**article.payload, "approved_at": "2026-11-26T08:00:00+07:00", "media": []}
    content = Content.model_validate(payload | {"approved_by": "cms"})
    assert {(t.channel, t.account) for t in content.targets} >= {("website", "main"), ("x", "bo_truyenthong")}


def test_channels_in_every_accepted_form() -> None:
    assert parse_targets(["x:a", {"channel": "zalo", "account": "oa", "title": "T"}]) == [
        {"channel": "x", "account": "a"},
        {"channel": "zalo", "account": "oa", "title": "T"},
    ]
    assert parse_targets({"facebook": ["p1", "p2"], "website": "main"}) == [
        {"channel": "facebook", "account": "p1"},
        {"channel": "facebook", "account": "p2"},
        {"channel": "website", "account": "main"},
    ]
    with pytest.raises(ArticleError):
        parse_targets(["no-account"])


def test_a_time_without_zone_means_ho_chi_minh() -> None:
    assert zoned("2026-12-01 09:00") == "2026-12-01T09:00:00+07:00"
    assert zoned("2026-12-01T09:00:00+00:00") == "2026-12-01T09:00:00+00:00"
    with pytest.raises(ArticleError):
        zoned("sáng mai")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "front matter"),
        ("---\ntitle: [unclosed\n---\nx", "YAML"),
        ("---\ntitle: x\nfoo: 1\n---\nx", "unknown front matter fields: foo"),
        ("---\ntitle: x\nmedia: [{path: missing.jpg}]\n---\nx", "does not exist"),
    ],
)
def test_bad_articles_say_why(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bai.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArticleError, match=message):
        load_article(path)

"""Rendering without servers: Vietnamese dates, hostile bodies, meta tags."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from loa.events import MediaRef
from loa.html import find_unsafe_markup
from services.website.site import render as r
from tests.website_support import article

pytestmark = pytest.mark.unit

SITE = r.SiteInfo("Cổng thông tin điện tử", "Tin chính thức", "https://example.gov.vn")

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">bấm vào đây</a>',
    '<a href="JaVaScRiPt&colon;alert(1)">mã hoá</a>',
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)"><circle r="10"/></svg>',
    '<p style="width: expression(alert(1))">CSS expression</p>',
    '<div style="background:url(javascript:alert(1))">nền</div>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<form action="https://evil.example"><button formaction="javascript:alert(1)">Gửi</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">dữ liệu</a>',
    '<img src="loa-media:sha256/' + "0" * 64 + '" alt="không thuộc bài">',
]
EXECUTABLE = re.compile(
    r"<\s*(script|iframe|object|embed|svg|math|form|base|meta\s+http-equiv|style|button)\b"
    r"|\son[a-z]+\s*=|javascript:|vbscript:|data:text|expression\(|style=",
    re.IGNORECASE,
)


def test_vietnamese_date_format() -> None:
    assert r.vi_date(datetime(2026, 11, 26, 7, 30, tzinfo=UTC)) == "Thứ Năm, 26/11/2026 14:30"
    assert r.vi_date(datetime(2026, 11, 29, 17, 0, tzinfo=UTC)) == "Thứ Hai, 30/11/2026 00:00"
    assert r.vi_date(datetime(2026, 11, 29, 16, 59, tzinfo=UTC)) == "Chủ Nhật, 29/11/2026 23:59"


@pytest.mark.parametrize("fragment", HOSTILE)
def test_the_edge_or_the_render_leaves_nothing_executable(fragment: str) -> None:
    """The event edge refuses most hostile bodies; whatever reaches the page is inert anyway."""
    body = f"<p>Nội dung hợp lệ trước.</p>{fragment}<p>Nội dung hợp lệ sau.</p>"
    if find_unsafe_markup(body) is not None:
        with pytest.raises(ValueError, match="executable markup"):
            article("01JD5Z8Q4M9R3T7V2X6YHST001", body=body)
    # A stored job may carry a body that bypassed the edge: the render-time sanitiser must hold.
    content = article("01JD5Z8Q4M9R3T7V2X6YHST001").model_copy(update={"body": body})
    view = r.article_view(
        content, "https://example.gov.vn/a.html", "loa-x", content.approved_at, content.approved_at
    )
    page = r.render("article.html", SITE, a=view).decode()
    main = page.split('<div class="body">', 1)[1].split("</div>", 1)[0]
    assert EXECUTABLE.search(main) is None, main
    assert "Nội dung hợp lệ trước." in main and "Nội dung hợp lệ sau." in main
    # The one <script> is the NewsArticle JSON-LD: data, never run (its type is not JavaScript).
    assert page.lower().count("<script") == 1 and '<script type="application/ld+json">' in page


def test_title_and_summary_are_escaped_everywhere() -> None:
    # Plain text is text: the edge accepts markup-like titles and tags, every renderer escapes them.
    content = article(
        "01JD5Z8Q4M9R3T7V2X6YHST002",
        title='Tiêu đề "<script>alert(1)</script>"',
        tags=["<img src=x onerror=alert(1)>"],
    )
    view = r.article_view(
        content, "https://example.gov.vn/a.html", "loa-x", content.approved_at, content.approved_at
    )
    page = r.render("article.html", SITE, a=view).decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<img src=x" not in page
    # In the JSON-LD, ``tojson`` escapes < and > so no title can close the <script> early.
    assert '"headline": "Tiêu đề \\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\""' in page
    feed = r.render("rss.xml", SITE, entries=[]).decode()
    assert feed.startswith("<?xml")


def test_inline_media_points_at_public_copies_and_leaves_the_gallery() -> None:
    sha = "a" * 64
    ref = MediaRef(
        key=f"sha256/{sha}",
        sha256=sha,
        content_type="image/jpeg",
        size=10,
        width=800,
        height=450,
        alt="Ảnh minh hoạ",
    )
    body = f'<p>Trước</p><img src="loa-media:sha256/{sha}" alt="Ảnh trong bài"><p>Sau</p>'
    content = article("01JD5Z8Q4M9R3T7V2X6YHST003", body=body, media=[ref])
    view = r.article_view(
        content, "https://example.gov.vn/a.html", "loa-x", content.approved_at, content.approved_at
    )
    assert f'src="/media/{sha}"' in view.body
    assert view.lead is None and view.gallery == []

"""Plain text is never refused for looking like code (issue #19): every place that writes it into
HTML escapes it. The WordPress payload is checked against the emulator
(tests/channels/website/test_wordpress_mode.py); this file covers the Jinja2 pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loa.settings import REPO_ROOT
from services.tracker.web import TEMPLATES
from services.website.site import render as r
from tests.website_support import article

pytestmark = pytest.mark.unit

TITLE = "Tập huấn: <script>alert(1)</script>, onerror= và javascript: — lạm phát <4% & online = 40%"
UNESCAPING = re.compile(r"\|\s*safe\b|autoescape\s+false|Markup\(", re.IGNORECASE)


@pytest.mark.parametrize(
    ("environment", "folder"),
    [
        (TEMPLATES.env, REPO_ROOT / "services/tracker/templates"),
        (r.environment(), REPO_ROOT / "services/website/site/templates"),
    ],
    ids=["tracker", "website"],
)
def test_every_template_autoescapes_and_none_opts_out(environment: object, folder: Path) -> None:
    names = sorted(p.name for p in folder.iterdir() if p.suffix in {".html", ".xml"})
    assert names
    for name in names:
        assert environment.autoescape(name) is True, name  # type: ignore[attr-defined]
        assert UNESCAPING.search((folder / name).read_text(encoding="utf-8")) is None, name


def test_a_website_article_shows_markup_like_prose_as_text() -> None:
    content = article(
        "01JD5Z8Q4M9R3T7V2X6YHST019", title=TITLE, summary=TITLE, tags=["a<b>c", "online = 40%"]
    )
    view = r.article_view(
        content, "https://example.gov.vn/a.html", "loa-x", content.approved_at, content.approved_at
    )
    page = r.render("article.html", r.SiteInfo("Cổng", "Tin", "https://example.gov.vn"), a=view).decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "lạm phát &lt;4% &amp; online = 40%" in page
    assert "a&lt;b&gt;c" in page

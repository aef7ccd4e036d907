"""The article page in real headless Chromium at phone and desktop widths (screenshots: see the
``screenshots`` fixture; ``LOA_UPDATE_SCREENSHOTS=1`` refreshes docs/img)."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.website_support import FakeContext, RunningServer, article, make_media, static_account, store_image

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
]
TITLE = "Đẩy mạnh chuyển đổi số: Hội nghị tổng kết năm 2026 của Bộ Thông tin và Truyền thông"


def illustration() -> bytes:
    """A calm press-photo stand-in: sky, a red stage with a gold star, rows of seats."""
    image = Image.new("RGB", (1200, 675))
    draw = ImageDraw.Draw(image)
    for y in range(675):
        shade = int(40 + 60 * y / 675)
        draw.line([(0, y), (1200, y)], fill=(shade, shade + 30, shade + 70))
    draw.rectangle([150, 120, 1050, 420], fill=(168, 21, 27))
    cx, cy, outer, inner = 600, 270, 110, 44
    import math

    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=(245, 196, 0))
    for row in range(5):
        for seat in range(24):
            x, y = 60 + seat * 46, 470 + row * 40
            draw.rounded_rectangle([x, y, x + 34, y + 26], 6, fill=(30 + row * 8, 45 + row * 8, 70 + row * 8))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


async def _publish(adapter: WebsiteAdapter, media: MediaStore) -> str:
    image = store_image(
        media,
        alt="Quang cảnh hội nghị tổng kết công tác chuyển đổi số năm 2026",
        caption="Quang cảnh hội nghị tại Hà Nội, sáng 26/11/2026.",
        data=illustration(),
    )
    account = static_account()
    for i, title in enumerate(
        ["Thông báo lịch tiếp công dân tháng 12/2026", "Đường dây nóng hỗ trợ người dân vùng lũ"]
    ):
        other = article(f"01JD5Z8Q4M9R3T7V2X6YOTH00{i}", title=title, tags=["Thông báo"], unit="Văn phòng Bộ")
        await adapter.publish(await adapter.render(other, other.targets[0], account), account)
    content = article("01JD5Z8Q4M9R3T7V2X6YBRW001", title=TITLE, media=[image])
    result = await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    return result.external_id


def test_article_renders_in_chromium_at_390_and_1280(settings: LoaSettings, screenshots: Path) -> None:
    from playwright.sync_api import sync_playwright

    media = make_media(settings)
    adapter = WebsiteAdapter(FakeContext(media), WebsiteSettings(**settings.model_dump()))
    path = asyncio.run(_publish(adapter, media))
    out = screenshots
    out.mkdir(parents=True, exist_ok=True)
    with RunningServer(adapter.static.bucket) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                problems: list[str] = []
                page.on("console", lambda m, p=problems: p.append(m.text) if m.type == "error" else None)  # type: ignore[call-overload]
                page.on("pageerror", lambda e, p=problems: p.append(str(e)))  # type: ignore[call-overload]
                page.on("requestfailed", lambda r, p=problems: p.append(f"failed {r.url}"))  # type: ignore[call-overload]
                response = page.goto(server.url + path, wait_until="networkidle")
                assert response is not None and response.status == 200
                assert page.locator("h1").inner_text() == TITLE
                assert page.title().startswith(TITLE)
                # The lead image loaded and fits the viewport; nothing scrolls sideways.
                assert page.evaluate(
                    "(() => { const i = document.querySelector('figure img');"
                    " return i.complete && i.naturalWidth > 0; })()"
                )
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                # srcset: a phone gets the 480 px copy, a desktop (720 px column) the 960 px one
                chosen = page.evaluate(
                    "(() => { const i = document.querySelector('figure img');"
                    " const path = new URL(i.currentSrc).pathname;"
                    " return i.srcset.split(', ').find(c => c.startsWith(path + ' ')).split(' ')[1]; })()"
                )
                assert chosen == ("480w" if width == 390 else "960w")
                assert (
                    page.evaluate("getComputedStyle(document.querySelector('.masthead')).backgroundImage")
                    != "none"
                )
                shot = Path(out / f"website-article-{width}.png")
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                assert problems == []
                page.close()
        finally:
            browser.close()

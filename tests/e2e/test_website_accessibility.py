"""The website's pages people read, checked by axe-core in headless Chromium (#24 item 3): the home
page, an article, a unit's page, an article carrying a correction notice and the 410 page of a
retracted article have no WCAG 2.1 A or AA violation."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.channels.website.test_corrections import correction, original
from tests.e2e.axe import axe_violations
from tests.e2e.test_tracker_dashboard import CHROMIUM_ARGS
from tests.e2e.test_website_browser import illustration
from tests.website_support import FakeContext, RunningServer, article, make_media, static_account, store_image

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="apt-get install chromium"),
]


async def _publish_pages(adapter: WebsiteAdapter) -> dict[str, str]:
    """Every kind of page the check covers; their paths by name."""
    account = static_account()
    image = store_image(
        adapter.context.media,
        alt="Quang cảnh hội nghị tổng kết công tác chuyển đổi số năm 2026",
        caption="Quang cảnh hội nghị tại Hà Nội, sáng 26/11/2026.",
        data=illustration(),
    )
    paths: dict[str, str] = {}
    featured = article("01JD5Z8Q4M9R3T7V2X6YAXE001", media=[image], tags=["Chuyển đổi số", "Đối ngoại"])
    gone = article("01JD5Z8Q4M9R3T7V2X6YAXE002", title="Thông báo tạm dừng tiếp công dân ngày 30/11/2026")
    for name, content in (
        ("article", featured),
        ("corrected", original().model_copy(update={"media": [image]})),
        ("correction", correction()),
        ("retracted", gone),
    ):
        result = await adapter.publish(await adapter.render(content, content.targets[0], account), account)
        paths[name] = result.external_id
        if name == "retracted":
            await adapter.retract(result, account)
    paths["home"] = "/"
    paths["unit"] = "/don-vi/vu-hop-tac-quoc-te/"
    return paths


def test_the_reader_pages_have_no_wcag_21_aa_violation(settings: LoaSettings) -> None:
    from playwright.sync_api import sync_playwright

    adapter = WebsiteAdapter(FakeContext(make_media(settings)), WebsiteSettings(**settings.model_dump()))
    paths = asyncio.run(_publish_pages(adapter))
    expected = {"retracted": 410}
    found: dict[str, list[str]] = {}
    with RunningServer(adapter.static.bucket) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name, path in paths.items():
                    response = page.goto(server.url + path, wait_until="networkidle")
                    assert response is not None and response.status == expected.get(name, 200), name
                    if name == "corrected":
                        assert page.locator(".correction-notice").count() == 1
                    found[f"{name} at {width}px"] = axe_violations(page)
                page.close()
            # The check can fail: the article without its image's alt text is one violation.
            page = browser.new_page()
            page.goto(server.url + paths["article"], wait_until="networkidle")
            page.evaluate("document.querySelector('figure img').removeAttribute('alt')")
            assert [v.split(" ")[0] for v in axe_violations(page)] == ["image-alt"]
        finally:
            browser.close()
    assert {page: v for page, v in found.items() if v} == {}
    assert len(found) == 12

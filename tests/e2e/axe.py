"""axe-core in headless Chromium: inject the pinned ``axe.min.js`` and run the WCAG 2.1 A + AA rules.

axe-core 4.11.0 (Deque Systems, MPL-2.0) from npm, pinned by tests/e2e/axe/package-lock.json and
installed by ``make pytest`` with ``npm ci``; its rules and their WCAG tags are Deque's
(https://github.com/dequelabs/axe-core/blob/v4.11.0/doc/rule-descriptions.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# axe-core's tags for WCAG 2.0 and 2.1, levels A and AA (doc/API.md, "runOnly" by tag).
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"


def _source() -> str:
    assert AXE_JS.exists(), "axe-core is missing: make pytest installs it (npm ci --prefix tests/e2e/axe)"
    return AXE_JS.read_text(encoding="utf-8")


def _lines(result: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
    ]


def axe_violations(page: Any) -> list[str]:
    """Run axe-core on the page as it is now; one line per violation: rule, impact, the nodes' targets.

    Evaluated through the DevTools protocol rather than added as a <script>: the page's
    Content-Security-Policy stays on, so the page is checked as people get it."""
    page.evaluate(_source())
    return _lines(page.evaluate(RUN, WCAG21_AA))


async def axe_violations_async(page: Any) -> list[str]:
    """``axe_violations`` for Playwright's async API."""
    await page.evaluate(_source())
    return _lines(await page.evaluate(RUN, WCAG21_AA))

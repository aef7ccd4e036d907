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


def axe_violations(page: Any) -> list[str]:
    """Run axe-core on the page as it is now; one line per violation: rule, impact, the nodes' targets."""
    assert AXE_JS.exists(), "axe-core is missing: make pytest installs it (npm ci --prefix tests/e2e/axe)"
    # Evaluated through the DevTools protocol rather than added as a <script>: the site's
    # Content-Security-Policy (default-src 'none') stays on, so the page is checked as readers get it.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG21_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
    ]

"""``make docs``: fail when a relative Markdown link in the given files/folders points nowhere.

Usage: ``python deploy/local/check_links.py README.md docs``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def broken_links(markdown: Path) -> list[str]:
    """Relative link targets of ``markdown`` that do not exist on disk."""
    broken = []
    for target in LINK.findall(markdown.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (markdown.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(target)
    return broken


def main(argv: list[str]) -> int:
    files: list[Path] = []
    for arg in argv[1:]:
        root = Path(arg)
        files.extend(sorted(root.rglob("*.md")) if root.is_dir() else [root])
    failures = [f"{f}: broken link {t}" for f in files for t in broken_links(f)]
    for failure in failures:
        print(failure)
    print(f"checked {len(files)} Markdown files: {len(failures)} broken links")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

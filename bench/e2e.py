"""End-to-end bench (issue 11): ``python bench/e2e.py --help``; the harness is the package ``bench/e2e/``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]  # the package bench.e2e, not this file

from bench.e2e.harness import run  # noqa: E402

if __name__ == "__main__":
    run()

"""Whole-stack fault drills (issue #25): ``python bench/drill.py --help``; the code: ``bench/drills/``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.drills.harness import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run())

"""Many replicas, proven (issue #22, item 2): ``python bench/chaos.py --help``; the harness is the
package ``bench/chaos/``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]  # the package bench.chaos, not this file

from bench.chaos.harness import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run())

"""Where py-spy is: a profiling tool the benches' flame graphs use, not a dependency of the project
(install it into the venv by hand: ``uv pip install --python .venv/bin/python py-spy``)."""

from __future__ import annotations

import shutil
from pathlib import Path

VENV_PY_SPY = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy"


def py_spy() -> str:
    """py-spy on ``PATH``, else the project's venv's (the benches run as ``.venv/bin/python``,
    often without the venv's ``bin`` on ``PATH``)."""
    return shutil.which("py-spy") or str(VENV_PY_SPY)

"""The sandbox's emulators check Loa's channels, so they share none of their code: building the
sandbox app imports no ``services.<channel>`` module (nor any other service's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT

pytestmark = pytest.mark.unit

PROBE = """
import json, sys
from services.sandbox.app import build_app
build_app()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("services."))))
"""


def test_building_the_sandbox_imports_only_the_sandbox() -> None:
    env = {**os.environ, "PYTHONPATH": CHECKOUT_PYTHONPATH}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    imported = json.loads(result.stdout.splitlines()[-1])
    assert any(m.startswith("services.sandbox.") for m in imported)
    assert [m for m in imported if not m.startswith("services.sandbox")] == []

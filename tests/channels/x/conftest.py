"""The npm package twitter-text 3.1.0 (``oracle/package-lock.json``), which ``make setup`` installs
under ``$LOA_CACHE_DIR/npm/``: X's JavaScript reference, for the tests that compare with it."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).parents[3]


@dataclass(frozen=True)
class Node:
    executable: str
    modules: Path
    """The ``node_modules`` folder holding twitter-text and twemoji-parser."""


@pytest.fixture(scope="session")
def node() -> Node:
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not installed: twitter-text (JavaScript) cannot run")
    cache = Path(os.environ.get("LOA_CACHE_DIR", REPO / ".loa"))
    modules = cache / "npm" / "twitter-text-3.1.0" / "node_modules"
    assert modules.joinpath("twitter-text").is_dir(), f"{modules} is missing: run `make setup`"
    return Node(executable, modules)

"""``services/x/twitter_text/regexes.py`` is exactly what ``export_regexes.js`` writes from the
locked npm packages (twitter-text 3.1.0, twemoji-parser 11.0.2): no hand edit, no drift."""

from __future__ import annotations

import subprocess

import pytest

from tests.channels.x.conftest import REPO, Node

pytestmark = pytest.mark.unit

PORT = REPO / "services" / "x" / "twitter_text"


def test_regexes_are_the_export_of_the_locked_packages(node: Node) -> None:
    export = subprocess.run(
        [node.executable, str(PORT / "export_regexes.js"), str(node.modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert export.stdout == (PORT / "regexes.py").read_text(encoding="utf-8")

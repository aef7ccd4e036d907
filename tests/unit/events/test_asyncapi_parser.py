"""The AsyncAPI document passes the AsyncAPI initiative's own parser (@asyncapi/parser, pinned in
tests/unit/events/asyncapi/package.json; ``make setup`` installs it with ``npm ci``). The parser validates
against the AsyncAPI 3.0.0 JSON Schema it bundles plus its Spectral rules, with no network."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from loa.events.export import render

pytestmark = pytest.mark.unit

TOOL = Path(__file__).parent / "asyncapi"


def parse(document: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is missing: install nodejs (the CI installs npm)"
    assert (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir(), "run make setup (npm ci)"
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    done = subprocess.run(
        [node, str(TOOL / "check.mjs"), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_our_asyncapi_document_is_valid_for_the_asyncapi_parser(tmp_path: Path) -> None:
    answer = parse(json.loads(render()["docs/asyncapi/asyncapi.json"]), tmp_path)
    assert answer == {"valid": True, "version": "3.0.0", "errors": [], "warnings": []}


def test_the_parser_catches_a_broken_document(tmp_path: Path) -> None:
    """The check is not vacuous: an operation pointing at a channel that does not exist fails."""
    document = json.loads(render()["docs/asyncapi/asyncapi.json"])
    operation = next(iter(document["operations"].values()))
    operation["channel"] = {"$ref": "#/channels/khong-ton-tai"}
    answer = parse(document, tmp_path)
    assert not answer["valid"]
    assert any("invalid-ref" in e for e in answer["errors"]), answer

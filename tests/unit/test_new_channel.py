"""``loa new-channel``: scaffold into a copy of the repository's layout, then run the new channel's
contract tests there (a separate pytest process)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from loa.cli.main import app
from loa.cli.new_channel import ScaffoldError, scaffold
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit

COMPOSE = """\
x-loa-service: &loa-service
  image: loa:dev
  environment:
    LOA_KAFKA_BOOTSTRAP: kafka:19092

services:
  kafka:
    image: apache/kafka:4.4.0

  # --- Loa services ---
  sandbox:
    <<: *loa-service
    command: ["python", "-m", "services.sandbox"]

volumes:
  kafka-data:
"""
PROCFILE = """\
# <name>: <command>    # ready: <url>
sandbox: python -m services.sandbox    # ready: http://127.0.0.1:8090/_sandbox/clock
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """What a channel's tests need of the repository: shared/, the sandbox, the test fixtures."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "shared", tmp_path / "shared", ignore=ignore)
    shutil.copytree(REPO_ROOT / "services" / "sandbox", tmp_path / "services" / "sandbox", ignore=ignore)
    shutil.copy(REPO_ROOT / "services" / "__init__.py", tmp_path / "services")
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "tests" / "channels").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "tests" / "sandbox_fixtures.py", tmp_path / "tests")
    shutil.copy(REPO_ROOT / "tests" / "channels" / "conftest.py", tmp_path / "tests" / "channels")
    (tmp_path / "deploy" / "local").mkdir(parents=True)
    (tmp_path / "deploy" / "local" / "services.Procfile").write_text(PROCFILE)
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    return tmp_path


def test_scaffolded_channel_passes_the_contract_suite(repo: Path) -> None:
    result = CliRunner().invoke(app, ["new-channel", "bao_dien_tu", "--root", str(repo)])
    assert result.exit_code == 0, result.output
    assert "wrote services/bao_dien_tu/adapter.py" in result.output

    procfile = (repo / "deploy" / "local" / "services.Procfile").read_text()
    assert procfile == PROCFILE + "bao_dien_tu: python -m services.bao_dien_tu\n"
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    service = compose["services"]["bao_dien_tu"]
    assert service["command"] == ["python", "-m", "services.bao_dien_tu"]
    assert service["image"] == "loa:dev"  # merged from the shared block
    assert set(compose["volumes"]) == {"kafka-data"}
    entry_points = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["entry-points"]
    assert entry_points["loa.channels"]["bao_dien_tu"] == "services.bao_dien_tu.adapter:BaoDienTuAdapter"
    assert entry_points["loa.channels"]["webhook"] == "services.webhook.adapter:WebhookAdapter"
    # Right after the table's last entry, above the comment that heads the next table.
    lines = (repo / "pyproject.toml").read_text().splitlines()
    at = lines.index('bao_dien_tu = "services.bao_dien_tu.adapter:BaoDienTuAdapter"')
    assert lines[at - 1].endswith('Adapter"'), lines[at - 1]
    assert "make setup" in result.output  # which registers the entry point

    env = {**os.environ, "PYTHONPATH": "shared:."}
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "services/bao_dien_tu", "tests/channels"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/channels/bao_dien_tu",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
    assert "failed" not in tests.stdout


def test_refuses_bad_reserved_and_existing_names(repo: Path) -> None:
    for bad in ("Zalo", "zalo-oa", "x", "class", "sandbox", "1abc"):
        with pytest.raises(ScaffoldError, match="name"):
            scaffold(bad, repo)
    scaffold("cong_bao", repo)
    with pytest.raises(ScaffoldError, match="already exists"):
        scaffold("cong_bao", repo)
    (repo / "docker-compose.yml").unlink()
    (repo / "deploy" / "local" / "services.Procfile").unlink()
    written = scaffold("tin_nhan", repo)
    assert repo / "docker-compose.yml" not in written
    procfile = (repo / "deploy" / "local" / "services.Procfile").read_text()
    assert procfile.startswith("#")
    assert procfile.endswith("tin_nhan: python -m services.tin_nhan\n")
    assert CliRunner().invoke(app, ["new-channel", "Sai-Tên", "--root", str(repo)]).exit_code == 2

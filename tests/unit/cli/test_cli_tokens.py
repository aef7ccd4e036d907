"""``loa tokens``: the token printed once at issue, never by ``list``; revoked by id; grants checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loa.cli.main import app

pytestmark = pytest.mark.unit
UNIT = "Vụ Truyền thông và Báo chí"


def test_issue_list_revoke(tmp_path: Path) -> None:
    env = {
        "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
        "LOA_UNITS": json.dumps({"Bộ Thông tin và Truyền thông": None, UNIT: "Bộ Thông tin và Truyền thông"}),
        "COLUMNS": "300",  # a table row on one line
    }
    runner = CliRunner()
    issued = runner.invoke(app, ["tokens", "issue", "cms-cong-tt", "--grant", f"editor:{UNIT}"], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("loa_sa_") and len(token) > 40
    assert "shown only now" in issued.stderr
    listed = runner.invoke(app, ["tokens", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "cms-cong-tt" in listed.stdout and "live" in listed.stdout
    assert token not in listed.stdout and token[7:] not in listed.stdout
    token_id = issued.stderr.split()[1]  # "issued <id> for cms-cong-tt, ..."
    assert token_id in listed.stdout
    assert runner.invoke(app, ["tokens", "revoke", token_id], env=env).exit_code == 0
    assert "revoked" in runner.invoke(app, ["tokens", "list"], env=env).stdout
    again = runner.invoke(app, ["tokens", "revoke", token_id], env=env)
    assert again.exit_code == 1 and "no live token" in again.stderr


@pytest.mark.parametrize(
    ("grant", "says"),
    [
        (f"editor{UNIT}", "expected role:unit"),
        (f"chief:{UNIT}", "unknown role 'chief'"),
        ("editor:Vụ Không Có", "not a unit of LOA_UNITS"),
    ],
)
def test_a_bad_grant_is_refused_naming_it(tmp_path: Path, grant: str, says: str) -> None:
    env = {
        "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
        "LOA_UNITS": json.dumps({UNIT: None}),
        "COLUMNS": "300",  # the error box would wrap the sentence
    }
    answer = CliRunner().invoke(app, ["tokens", "issue", "ci", "--grant", grant], env=env)
    assert answer.exit_code == 2
    assert says in answer.output

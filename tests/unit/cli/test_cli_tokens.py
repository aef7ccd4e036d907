"""``loa tokens``: the token printed once at issue, never by ``list``; revoked by id; grants
checked; issuing and revoking chained into the tracker's audit log, or nothing done without it."""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from loa.audit.chain import table as audit_log
from loa.audit.verify import verify
from loa.cli.main import app
from loa.db import make_engine
from services.tracker.db import migrate as migrate_tracker

pytestmark = pytest.mark.unit
UNIT = "Vụ Truyền thông và Báo chí"


def _tracker_database(path: Path) -> str:
    """A tracker's database (its schema, the audit log's table among it), as LOA_DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{path}"

    async def make() -> None:
        engine = make_engine(url)
        await migrate_tracker(engine)
        await engine.dispose()

    asyncio.run(make())
    return url


def _audit_rows(url: str) -> tuple[list[Any], bool]:
    """The audit log's rows and whether its chain verifies."""

    async def read() -> tuple[list[Any], bool]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                rows = list((await conn.execute(select(audit_log).order_by(audit_log.c.seq))).all())
            return rows, (await verify(engine)).ok
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_issue_list_revoke(tmp_path: Path) -> None:
    url = _tracker_database(tmp_path / "loa.db")
    env = {
        "LOA_DATABASE_URL": url,
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

    rows, intact = _audit_rows(url)
    assert intact
    who = f"cli:{getpass.getuser()}@{socket.gethostname()}"
    assert [(r.action, r.outcome, r.actor, r.source) for r in rows] == [
        ("token_issued", "ok", who, "loa-cli"),
        ("token_revoked", "ok", who, "loa-cli"),
        ("token_revoked", "refused", who, "loa-cli"),
    ]
    issued_row = rows[0]
    assert (issued_row.account, issued_row.unit, issued_row.actor_kind) == ("cms-cong-tt", UNIT, "person")
    assert f"token {token_id}: editor:{UNIT}" in issued_row.detail
    assert all(token not in str(tuple(r)) and token[7:] not in str(tuple(r)) for r in rows)
    assert rows[2].reason == "no live token with this id"


def test_without_the_audit_log_nothing_is_issued_or_revoked(tmp_path: Path) -> None:
    """A database that is not the tracker's has no audit log: the act would go unrecorded."""
    env = {"LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}", "COLUMNS": "300"}
    runner = CliRunner()
    issued = runner.invoke(app, ["tokens", "issue", "cms-cong-tt", "--grant", "editor:*"], env=env)
    assert issued.exit_code == 1
    assert "no audit log (audit_log) in LOA_DATABASE_URL" in issued.stderr
    assert "loa_sa_" not in issued.stdout
    listed = runner.invoke(app, ["tokens", "list"], env=env)  # reading is not an act
    assert listed.exit_code == 0 and "cms-cong-tt" not in listed.stdout
    assert runner.invoke(app, ["tokens", "revoke", "abc123"], env=env).exit_code == 1


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

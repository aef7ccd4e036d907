"""``make run``'s listener token for the website's page views (``deploy/local/views_token.py``):
issued once through ``loa tokens issue``'s audited code into ``.env.local``, kept while live,
replaced once revoked, never printed; the Procfile starts the listener only through it."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from deploy.local.supervise import parse_procfile
from loa.access.principal import ALL_UNITS, Grant, Role
from loa.access.tokens import TokenStore
from loa.audit.chain import table as audit_log
from loa.db import make_engine
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT
from services.tracker.db import migrate as migrate_tracker

pytestmark = pytest.mark.unit
SCRIPT = REPO_ROOT / "deploy" / "local" / "views_token.py"
SETTING = "LOA_WEBSITE_VIEWS_TOKEN"
# What the listener process sees once the script has run in its place: the token's length only.
SHOW_LENGTH = [sys.executable, "-c", f"import os; print('listener sees', len(os.environ['{SETTING}']))"]


def _tracker_database(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"

    async def make() -> None:
        engine = make_engine(url)
        await migrate_tracker(engine)
        await engine.dispose()

    asyncio.run(make())
    return url


def _run(env_file: Path, url: str, *command: str, wait: str = "5") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (SETTING, "LOA_ACCESS_DATABASE_URL")}
    env |= {"LOA_DATABASE_URL": url, "LOA_VIEWS_TOKEN_WAIT_S": wait, "PYTHONPATH": CHECKOUT_PYTHONPATH}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--env-file", str(env_file), *command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _token_in(env_file: Path) -> str:
    lines = [line for line in env_file.read_text().splitlines() if line.startswith(f"{SETTING}=")]
    assert len(lines) == 1, env_file.read_text()
    return lines[0].split("=", 1)[1]


def _find(url: str, token: str) -> tuple[str, frozenset[Grant]] | None:
    async def go() -> tuple[str, frozenset[Grant]] | None:
        store = TokenStore.at(url)
        try:
            who = await store.find(token)
            return None if who is None else (who.name, who.grants)
        finally:
            await store.close()

    return asyncio.run(go())


def _issued_rows(url: str) -> list[str]:
    async def go() -> list[str]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(audit_log.c.action, audit_log.c.account))).all()
            return [f"{r.action} {r.account}" for r in rows]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_a_token_is_issued_once_audited_kept_while_live_and_never_printed(tmp_path: Path) -> None:
    url = _tracker_database(tmp_path / "loa.db")
    env_file = tmp_path / ".env.local"
    env_file.write_text('LOA_MODE=development\nLOA_UNITS={"Bộ Thông tin và Truyền thông": null}\n')

    first = _run(env_file, url, *SHOW_LENGTH)
    assert first.returncode == 0, first.stderr
    token = _token_in(env_file)
    assert token.startswith("loa_sa_")
    assert token not in first.stdout + first.stderr and token[7:] not in first.stdout + first.stderr
    assert "listener sees" in first.stdout and f"listener sees {len(token)}" in first.stdout
    assert _find(url, token) == ("listener", frozenset({Grant(Role.VIEWER, ALL_UNITS)}))
    assert _issued_rows(url) == ["token_issued listener"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "LOA_MODE=development" in env_file.read_text() and "Bộ Thông tin" in env_file.read_text()

    again = _run(env_file, url)
    assert again.returncode == 0, again.stderr
    assert _token_in(env_file) == token and "kept" in again.stderr
    assert _issued_rows(url) == ["token_issued listener"]


def test_a_revoked_token_is_replaced(tmp_path: Path) -> None:
    url = _tracker_database(tmp_path / "loa.db")
    env_file = tmp_path / ".env.local"
    env_file.write_text(f"{SETTING}=loa_sa_revoked-or-from-another-stack\n")
    assert _run(env_file, url).returncode == 0
    token = _token_in(env_file)
    assert token != "loa_sa_revoked-or-from-another-stack"
    assert _find(url, token) is not None


def test_the_listener_waits_for_the_trackers_readiness(tmp_path: Path) -> None:
    url = _tracker_database(tmp_path / "loa.db")
    env_file = tmp_path / ".env.local"
    env_file.write_text("")
    silent = "http://127.0.0.1:9/healthz"  # the discard port: nothing answers there
    done = _run(env_file, url, "--after", silent, *SHOW_LENGTH, wait="1")
    assert done.returncode == 1 and f"{silent} did not answer" in done.stderr
    assert "listener sees" not in done.stdout and env_file.read_text() == ""


def test_without_the_trackers_audit_log_nothing_is_issued_and_the_listener_waits(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'not-the-tracker.db'}"
    env_file = tmp_path / ".env.local"
    env_file.write_text("LOA_MODE=development\n")
    done = _run(env_file, url, *SHOW_LENGTH, wait="0")
    assert done.returncode == 1
    assert "no audit log in LOA_DATABASE_URL" in done.stderr
    assert "listener sees" not in done.stdout
    assert env_file.read_text() == "LOA_MODE=development\n"


def test_make_run_starts_the_listener_through_the_token_script() -> None:
    services = parse_procfile((REPO_ROOT / "deploy" / "local" / "services.Procfile").read_text("utf-8"))
    listener = next(s for s in services if s.name == "listener")
    tracker = next(s for s in services if s.name == "tracker")
    start = f"python deploy/local/views_token.py --after {tracker.ready} python -m services.listener"
    assert listener.command.startswith(start)

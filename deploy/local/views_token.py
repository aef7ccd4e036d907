"""The listener's token for the website's page views (``LOA_WEBSITE_VIEWS_TOKEN``), for ``make run``.

    python deploy/local/views_token.py [--env-file FILE] [--after URL] [COMMAND ...]

Keeps a live token in ``.env.local``: a token found there that the token table still accepts is
kept; otherwise a new one is issued the way ``loa tokens issue listener --grant viewer:*`` issues it
(the same code: audited in the tracker's audit log as ``cli:user@host``) and written there, the
file kept 0600. The audit log and the token table are the tracker's, made at its first start: the
script waits until URL answers (the tracker's readiness, after its migrations; the supervisor's own
test, ``supervise.answers``) and the audit log is there, up to ``LOA_VIEWS_TOKEN_WAIT_S`` seconds
(60) in all, then gives up with exit 1 (the supervisor restarts the listener's line: it tries
again). The token is never printed, only its id. Then COMMAND runs in this process's place (the
Procfile's listener), and reads the token from ``.env.local``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "shared"), str(REPO)]

from dotenv import dotenv_values, set_key  # noqa: E402 - after the path above

from deploy.local.supervise import answers  # noqa: E402
from loa.access.principal import ALL_UNITS, Grant, Role  # noqa: E402
from loa.cli import tokens  # noqa: E402
from loa.settings import ENV_FILE  # noqa: E402

SETTING = "LOA_WEBSITE_VIEWS_TOKEN"
ACCOUNT = "listener"
GRANTS = frozenset({Grant(Role.VIEWER, ALL_UNITS)})
"""What ``GET /_api/v1/views`` requires: a reading role on every unit (services/website/views_api.py)."""
DAYS = tokens.MAX_DAYS
"""The longest lifetime ``loa tokens issue`` allows; an expired token is replaced at the next start."""


def say(text: str) -> None:
    sys.stderr.write(f"views-token: {text}\n")


def wait_until(ready: Callable[[], bool], deadline: float) -> bool:
    while not ready():
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)
    return True


def ensure_token(env_file: Path, wait_s: float, after: str | None = None) -> bool:
    """A live token in ``env_file``'s ``SETTING`` (kept, or issued and written); False if none could be."""
    kept = os.environ.get(SETTING) or dotenv_values(env_file).get(SETTING) or ""
    deadline = time.monotonic() + wait_s
    if after and not wait_until(lambda: answers(after), deadline):
        say(f"{after} did not answer within {wait_s:g} s: {SETTING} not issued yet")
        return False
    if not wait_until(tokens.audit_log_ready, deadline):
        say(
            f"no audit log in LOA_DATABASE_URL after {wait_s:g} s (the tracker makes it at its first "
            f"start): {SETTING} not issued yet"
        )
        return False
    if kept and tokens.is_live(kept):
        say(f"{SETTING}: the token in {env_file.name} is live; kept")
        return True
    row, token = tokens.issue_token(ACCOUNT, GRANTS, DAYS)
    set_key(env_file, SETTING, token, quote_mode="never", follow_symlinks=True)
    env_file.resolve().chmod(0o600)
    os.environ[SETTING] = token  # the command below reads it, whatever the environment held
    say(
        f"{SETTING}: issued token {row.id} for {ACCOUNT} ({tokens.grants_text(GRANTS)}, expires "
        f"{row.expires_at:%Y-%m-%d}), kept in {env_file.name}; audited"
    )
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="views_token.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", type=Path, default=ENV_FILE)
    parser.add_argument("--after", help="wait until this URL answers first (the tracker's readiness)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="run in this process's place after")
    args = parser.parse_args(argv[1:])
    if not ensure_token(args.env_file, float(os.environ.get("LOA_VIEWS_TOKEN_WAIT_S", "60")), args.after):
        return 1
    if args.command:
        os.execvp(args.command[0], args.command)  # noqa: S606 - the Procfile's own command
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

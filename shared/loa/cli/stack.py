"""``loa stack up|down|status``: the local stack (Kafka, MinIO, PostgreSQL) via deploy/local/stack.sh."""

from __future__ import annotations

import subprocess
from typing import Literal

import typer

from loa.settings import REPO_ROOT

STACK_SCRIPT = REPO_ROOT / "deploy" / "local" / "stack.sh"

app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local stack.")


Action = Literal["up", "down", "status"]


def run_stack(action: Action) -> int:
    """Run ``stack.sh <action>`` in the repository; its exit code."""
    if not STACK_SCRIPT.is_file():
        typer.echo(f"{STACK_SCRIPT} is missing: run `loa stack` from a checkout of the repository", err=True)
        return 2
    return subprocess.run(["bash", str(STACK_SCRIPT), action], cwd=REPO_ROOT, check=False).returncode  # noqa: S603, S607


@app.command()
def up() -> None:
    """Start Kafka, MinIO and PostgreSQL (idempotent; waits until healthy)."""
    raise typer.Exit(run_stack("up"))


@app.command()
def down() -> None:
    """Stop every process the stack started."""
    raise typer.Exit(run_stack("down"))


@app.command()
def status() -> None:
    """Each component's port, pid and health."""
    raise typer.Exit(run_stack("status"))

"""``loa press-lists list|show|set NAME``: the journalists of a press list, through the tracker's
API (``LOA_TRACKER_URL``; a token of a spokesperson or admin of the list's unit: ``manage_press_lists``).
Audited; the e-mail publisher has the new list within seconds.

``set`` replaces the whole list from a YAML or JSON file: a list of
``{name, outlet, email, unit, consent_date}`` (an admin first adds the list: ``loa accounts add email NAME``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from loa.cli.tracker_client import call, tracker

app = typer.Typer(no_args_is_help=True, help="Manage the journalists of a press list (the e-mail channel).")

Contact = Annotated[
    list[str] | None, typer.Option("--contact", help="a line of the spokesperson's contact block (repeat)")
]


@app.command("list")
def list_press_lists() -> None:
    """The press lists you may manage, with their unit and size."""
    with tracker() as client:
        for found in call(client, "GET", "/api/v1/press-lists"):
            typer.echo(f"{found['name']}\tunit {found['unit'] or '-'}\t{found['recipients']} recipient(s)")


@app.command("show")
def show(name: str) -> None:
    """Each journalist of the list: name, outlet, e-mail, unit, consent date."""
    with tracker() as client:
        found = call(client, "GET", f"/api/v1/press-lists/{name}")
    for line in found["contact"]:
        typer.echo(f"# {line}")
    for p in found["people"]:
        typer.echo(f"{p['name']}\t{p['outlet']}\t{p['email']}\t{p['unit']}\t{p['consent_date']}")


@app.command("set")
def set_list(
    name: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON: the whole list")],
    contact: Contact = None,
) -> None:
    """Replace the list's journalists with those of FILE."""
    people: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    if not isinstance(people, list):
        raise typer.BadParameter(f"{file}: expected a list of journalists, got {type(people).__name__}")
    body: dict[str, Any] = {"people": people}
    if contact:
        body["contact"] = contact
    with tracker() as client:
        changed = call(client, "PUT", f"/api/v1/press-lists/{name}", body)
    typer.echo(
        f"{name}: {changed['recipients']} recipient(s); the e-mail publisher applies it within seconds"
    )

"""``loa hold`` / ``loa release``: the hold switch ("Tạm dừng phát hành") through the tracker's API."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from loa.cli.tracker_client import call, errors, tracker

console = Console()


def hold(
    reason: Annotated[
        str, typer.Option("--reason", help="why publishing is held (required, kept in the record)")
    ],
    unit: Annotated[str | None, typer.Option(help="only this unit's contents")] = None,
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
    account: Annotated[str | None, typer.Option(help="only this account (of --channel)")] = None,
) -> None:
    """Hold every not-yet-published delivery (all, or a unit, a channel, an account); prints the hold."""
    body = {"reason": reason, "unit": unit, "channel": channel, "account": account}
    with tracker() as client:
        answer = call(client, "POST", "/api/v1/holds", {k: v for k, v in body.items() if v is not None})
    console.print_json(json.dumps(answer, ensure_ascii=False))


def release(
    hold_id: Annotated[str | None, typer.Argument(help="the hold's id (loa hold printed it)")] = None,
    every: Annotated[bool, typer.Option("--all", help="release every active hold")] = False,
    reason: Annotated[str, typer.Option("--reason", help="kept in the record")] = "",
) -> None:
    """End a hold: held deliveries go in their original order; those whose time passed wait for ops."""
    with tracker() as client:
        if hold_id is None:
            active = [h["id"] for h in call(client, "GET", "/api/v1/holds") if h["released_at"] is None]
            if not every:
                errors.print("name a hold, or --all; active holds: " + (", ".join(active) or "none"))
                raise typer.Exit(2)
            ids = active
        else:
            ids = [hold_id]
        for one in ids:
            call(client, "POST", f"/api/v1/holds/{one}/release", {"reason": reason})
            console.print(f"released {one}")
        late = call(client, "GET", "/api/v1/holds/late")
    if late:
        console.print(f"{len(late)} delivery(ies) whose time passed during the hold wait for a decision:")
        for d in late:
            console.print(f"  {d['id']}  (send now / reschedule / cancel: dashboard or POST .../late)")

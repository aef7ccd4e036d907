"""``loa hold`` / ``loa release``: the hold switch ("Tạm dừng phát hành") through the tracker's API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from loa.settings import LoaSettings

console = Console()
errors = Console(stderr=True)
TIMEOUT = 10.0


def _tracker() -> httpx.Client:
    settings = LoaSettings()
    token = settings.api_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=str(settings.tracker_url).rstrip("/"), headers=headers, timeout=TIMEOUT)


def _call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The tracker's JSON answer; its refusal (code and message, never the token) and exit 1 otherwise."""
    try:
        response = client.request(method, path, json=body)
    except httpx.HTTPError as e:
        errors.print(f"[red]cannot reach the tracker at {client.base_url}:[/red] {type(e).__name__}")
        raise typer.Exit(1) from e
    if response.status_code >= 400:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {"code": "http_error", "message": response.text[:500]}
        errors.print(f"[red]{error.get('code', response.status_code)}:[/red] {error.get('message', '')}")
        raise typer.Exit(1)
    return response.json()


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
    with _tracker() as client:
        answer = _call(client, "POST", "/api/v1/holds", {k: v for k, v in body.items() if v is not None})
    console.print_json(json.dumps(answer, ensure_ascii=False))


def release(
    hold_id: Annotated[str | None, typer.Argument(help="the hold's id (loa hold printed it)")] = None,
    every: Annotated[bool, typer.Option("--all", help="release every active hold")] = False,
    reason: Annotated[str, typer.Option("--reason", help="kept in the record")] = "",
) -> None:
    """End a hold: held deliveries go in their original order; those whose time passed wait for ops."""
    with _tracker() as client:
        if hold_id is None:
            active = [h["id"] for h in _call(client, "GET", "/api/v1/holds") if h["released_at"] is None]
            if not every:
                errors.print("name a hold, or --all; active holds: " + (", ".join(active) or "none"))
                raise typer.Exit(2)
            ids = active
        else:
            ids = [hold_id]
        for one in ids:
            _call(client, "POST", f"/api/v1/holds/{one}/release", {"reason": reason})
            console.print(f"released {one}")
        late = _call(client, "GET", "/api/v1/holds/late")
    if late:
        console.print(f"{len(late)} delivery(ies) whose time passed during the hold wait for a decision:")
        for d in late:
            console.print(f"  {d['id']}  (send now / reschedule / cancel: dashboard or POST .../late)")

"""``loa status ID [--wait]``: where one content stands on every channel, from the tracker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from loa.events import FINAL_STATES
from loa.mode import DEVELOPMENT
from loa.settings import LoaSettings

STYLES = {
    "published": "green",
    "failed": "bold red",
    "retract_failed": "bold red",
    "needs_attention": "yellow",
    "retrying": "cyan",
    "publishing": "cyan",
    "retracting": "cyan",
    "cancelled": "dim",
    "retracted": "dim",
}
PROBLEMS = {"failed", "retract_failed", "needs_attention"}
FINAL = {s.value for s in FINAL_STATES}


def table(content_id: str, title: str | None, deliveries: list[dict[str, Any]]) -> Table:
    """One row per delivery: channel, account, state, attempt, link or last error.

    Every text that came from outside (titles, account names, platforms' error messages, links) is
    escaped: rich reads ``[...]`` as markup, so a platform answer could otherwise restyle the table
    or hide itself (``[link=...]``, ``[conceal]``).
    """
    heading = f"{content_id} — {title}" if title else content_id
    t = Table(title=escape(heading), title_justify="left")
    for column in ("Channel", "Account", "State", "Attempt", "Sent to", "Link / last error"):
        t.add_column(column)
    for d in deliveries:
        error = d.get("last_error") or {}
        detail = d.get("public_url") or ""
        if d["state"] != "published" and error:
            code = f" [{error['code']}]" if error.get("code") else ""
            detail = f"{error['error_class']}{code}: {error.get('message') or ''}"
        style = STYLES.get(d["state"])
        state = f"[{style}]{d['state']}[/]" if style else escape(d["state"])
        host = escape(d.get("target_host") or "")  # host[:port] only: the sandbox's in development
        row = (escape(d["channel"]), escape(d["account"]), state, str(d["attempt"]), host, escape(detail))
        t.add_row(*row)
    return t


def all_final(deliveries: list[dict[str, Any]]) -> bool:
    return bool(deliveries) and all(d["state"] in FINAL for d in deliveries)


def _sse_snapshots(client: httpx.Client, url: str) -> Iterator[list[dict[str, Any]]]:
    with client.stream("GET", url, timeout=httpx.Timeout(10.0, read=60.0)) as response:
        response.raise_for_status()
        event, data = "", ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif not line:
                if event == "deliveries" and data:
                    yield json.loads(data)
                event, data = "", ""


def mode_line(client: httpx.Client) -> str | None:
    """The tracker's mode (from its ``/healthz``, no token needed) as a line to print, if it says."""
    try:
        mode = client.get("/healthz").json().get("mode")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if mode == DEVELOPMENT:
        return "[bold black on yellow] SANDBOX [/] mode: development — posts reach the emulators only"
    return f"mode: {escape(mode)}" if isinstance(mode, str) else None


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]{escape(message)}[/]")
    return typer.Exit(2)


def status(
    content_id: Annotated[str, typer.Argument(help="the content id")],
    wait: Annotated[bool, typer.Option("--wait", help="follow live until every delivery is final")] = False,
    timeout: Annotated[float, typer.Option(help="give up waiting after this many seconds")] = 600.0,
) -> None:
    """Show the deliveries of one content (exit 1 if any failed or needs attention)."""
    settings = LoaSettings()
    console = Console()
    token = settings.api_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base = str(settings.tracker_url).rstrip("/")
    with httpx.Client(base_url=base, headers=headers, timeout=10.0) as client:
        try:
            response = client.get(f"/api/v1/contents/{content_id}")
        except httpx.HTTPError as e:
            raise _fail(console, f"cannot reach the tracker at {base}: {type(e).__name__}") from e
        if response.status_code in (401, 403):
            raise _fail(console, "the tracker refused the token (set LOA_API_TOKEN)")
        if response.status_code == 404:
            raise _fail(console, f"the tracker knows no content {content_id!r}")
        response.raise_for_status()
        if line := mode_line(client):
            console.print(line)
        detail = response.json()
        deliveries: list[dict[str, Any]] = detail["deliveries"]
        if wait and not all_final(deliveries):
            deliveries = _follow(client, console, content_id, detail.get("title"), deliveries, timeout)
        else:
            console.print(table(content_id, detail.get("title"), deliveries))
    if any(d["state"] in PROBLEMS for d in deliveries):
        raise typer.Exit(1)


def _follow(
    client: httpx.Client,
    console: Console,
    content_id: str,
    title: str | None,
    deliveries: list[dict[str, Any]],
    timeout: float,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    with Live(table(content_id, title, deliveries), console=console, refresh_per_second=4) as live:
        while time.monotonic() < deadline:
            try:
                for snapshot in _sse_snapshots(client, f"/api/v1/contents/{content_id}/events"):
                    deliveries = snapshot
                    live.update(table(content_id, title, deliveries))
                    if all_final(deliveries) or time.monotonic() > deadline:
                        return deliveries
            except httpx.HTTPError:
                time.sleep(1.0)  # the stream broke (tracker restart): reconnect
    console.print("[yellow]stopped waiting: not every delivery is final yet[/]")
    return deliveries

"""The tracker's API for the CLI: ``LOA_TRACKER_URL`` with ``LOA_API_TOKEN``, refusals printed
as the tracker's code and message (never the token)."""

from __future__ import annotations

from typing import Any

import httpx
import typer
from rich.console import Console

from loa.settings import LoaSettings

errors = Console(stderr=True)
TIMEOUT = 10.0


def tracker() -> httpx.Client:
    settings = LoaSettings()
    token = settings.api_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=str(settings.tracker_url).rstrip("/"), headers=headers, timeout=TIMEOUT)


def call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
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

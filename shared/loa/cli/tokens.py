"""``loa tokens issue|list|revoke``: service accounts' bearer tokens (content systems, CI).

The command writes the shared token table (``LOA_ACCESS_DATABASE_URL``, default
``LOA_DATABASE_URL``) directly, so whoever runs it holds that database's credentials: the admin of
the installation (tokens through the API, for the admin role, are not built yet). The token is
printed once, at issue; only its SHA-256 is kept. Each row records who issued or revoked it.
"""

from __future__ import annotations

import asyncio
import getpass
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from loa.access.principal import ALL_UNITS, Grant, Role
from loa.access.settings import AccessSettings
from loa.access.tokens import TokenStore
from loa.access.units import nfc

app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke service accounts' bearer tokens.")
console = Console()
T = TypeVar("T")
MAX_DAYS = 366


def _actor() -> str:
    """Who ran the command, for the token's row."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


def parse_grant(text: str, settings: AccessSettings) -> Grant:
    """``role:unit`` (``*`` for every unit) → a grant; a unit must be one of ``LOA_UNITS`` if set."""
    role_name, sep, unit = text.partition(":")
    roles = ", ".join(r.value for r in Role)
    if not sep or not unit.strip():
        expected = f"expected role:unit (roles: {roles}; unit *: every unit)"
        raise typer.BadParameter(f"--grant {text!r}: {expected}")
    try:
        role = Role(role_name.strip())
    except ValueError:
        raise typer.BadParameter(f"--grant {text!r}: unknown role {role_name!r} (roles: {roles})") from None
    unit = nfc(unit)
    known = settings.unit_tree().names
    if unit != ALL_UNITS and known and unit not in known:
        raise typer.BadParameter(f"--grant {text!r}: {unit!r} is not a unit of LOA_UNITS")
    return Grant(role, unit)


def _with_store(work: Callable[[TokenStore], Awaitable[T]]) -> T:
    settings = AccessSettings()

    async def go() -> T:
        store = TokenStore.at(settings.tokens_database_url)
        try:
            await store.migrate()
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


@app.command("issue")
def issue(
    name: Annotated[str, typer.Argument(help="the service account, e.g. cms-cong-thong-tin")],
    grant: Annotated[list[str], typer.Option("--grant", "-g", help="role:unit, repeatable")],
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="days until it expires")] = 90,
) -> None:
    """A new token for NAME, printed once: store it in the content system's secrets now."""
    settings = AccessSettings()
    grants = frozenset(parse_grant(g, settings) for g in grant)
    row, token = _with_store(lambda s: s.issue(nfc(name), grants, _actor(), timedelta(days=days)))
    typer.echo(token)
    typer.echo(
        f"issued {row.id} for {row.name}, expires {row.expires_at:%Y-%m-%d %H:%M} UTC; "
        "this token is shown only now",
        err=True,
    )


@app.command("list")
def list_() -> None:
    """Every token's id, account, grants, issuer and expiry (never the token)."""
    rows = _with_store(lambda s: s.list())
    table = Table("id", "name", "grants", "issued by", "expires", "state")
    for r in rows:
        grants = ", ".join(sorted(f"{g.role.value}:{g.unit}" for g in r.grants))
        state = "live" if r.live else ("revoked" if r.revoked_at else "expired")
        table.add_row(r.id, r.name, grants, r.issued_by, f"{r.expires_at:%Y-%m-%d %H:%M}", state)
    console.print(table)


@app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="the id `loa tokens list` shows")]) -> None:
    """End a token now: its next request gets a 401."""
    if not _with_store(lambda s: s.revoke(token_id, _actor())):
        typer.echo(f"error: no live token with id {token_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {token_id}")

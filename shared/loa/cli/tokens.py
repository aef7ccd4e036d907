"""``loa tokens issue|list|revoke``: service accounts' bearer tokens (content systems, CI).

The command writes the shared token table (``LOA_ACCESS_DATABASE_URL``, default
``LOA_DATABASE_URL``) directly, so whoever runs it holds that database's credentials: the admin of
the installation (tokens through the API, for the admin role, are not built yet). The token is
printed once, at issue; only its SHA-256 is kept. Each row records who issued or revoked it.

Issuing and revoking are audited in the one audit log: the command chains the entry itself into
the tracker's ``audit_log`` (``LOA_DATABASE_URL``, the tracker's database; ``loa.audit.chain``,
the tracker's own way), as ``cli:user@host``. Without that table it does nothing; an issued token
whose entry could not be chained is revoked before it is ever shown. ``list`` is not audited.
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
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.access.principal import ALL_UNITS, Grant, Kind, Principal, Role
from loa.access.settings import AccessSettings
from loa.access.tokens import IssuedToken, TokenStore
from loa.access.units import nfc
from loa.audit import AuditAction, AuditOutcome, AuditSink, record
from loa.audit.chain import ChainSink
from loa.audit.table import TABLE
from loa.db import make_engine

app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke service accounts' bearer tokens.")
console = Console()
T = TypeVar("T")
MAX_DAYS = 366
PRODUCER = "loa-cli"
"""The ``source`` of the command's audit rows."""


def _actor() -> Principal:
    """Who ran the command, for the token's row and the audit log."""
    host = socket.gethostname()
    return Principal(f"cli:{getpass.getuser()}@{host}", Kind.PERSON, address=host)


def grants_text(grants: frozenset[Grant]) -> str:
    return ", ".join(sorted(f"{g.role.value}:{g.unit}" for g in grants))


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


async def _has_audit_log(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return bool(await conn.run_sync(lambda c: inspect(c).has_table(TABLE)))


async def _require_audit_log(engine: AsyncEngine) -> None:
    if not await _has_audit_log(engine):
        typer.echo(
            f"error: no audit log ({TABLE}) in LOA_DATABASE_URL, the tracker's database: point it "
            "there (the tracker makes the table at its first start); nothing was changed",
            err=True,
        )
        raise typer.Exit(1)


def _with_store(work: Callable[[TokenStore, AuditSink], Awaitable[T]], audited: bool = True) -> T:
    """Run ``work`` on the token store and, for an act, the audit log's sink (checked first)."""
    settings = AccessSettings()

    async def go() -> T:
        store = TokenStore.at(settings.tokens_database_url)
        log = make_engine(settings.database_url)
        try:
            if audited:
                await _require_audit_log(log)
            await store.migrate()
            return await work(store, ChainSink(log, PRODUCER))
        finally:
            await store.close()
            await log.dispose()

    return asyncio.run(go())


async def _issue(
    store: TokenStore, sink: AuditSink, name: str, grants: frozenset[Grant], days: int
) -> tuple[IssuedToken, str]:
    """Issue, then chain the act; a token whose entry could not be chained is revoked unseen."""
    who = _actor()
    row, token = await store.issue(name, grants, who.name, timedelta(days=days))
    units = {g.unit for g in grants}
    detail = f"token {row.id}: {grants_text(grants)}; expires {row.expires_at:%Y-%m-%d %H:%M} UTC"
    try:
        await record(
            sink,
            who,
            AuditAction.TOKEN_ISSUED,
            account=row.name,
            unit=units.pop() if len(units) == 1 else None,
            detail=detail,
        )
    except SQLAlchemyError:
        await store.revoke(row.id, who.name)
        typer.echo("error: the audit log refused the entry; the token was revoked, never shown", err=True)
        raise
    return row, token


async def _revoke(store: TokenStore, sink: AuditSink, token_id: str) -> bool:
    """Revoke, then chain the act (a refusal too: no live token with that id)."""
    who = _actor()
    ended = await store.revoke(token_id, who.name)
    refused = "" if ended else "no live token with this id"
    await record(
        sink,
        who,
        AuditAction.TOKEN_REVOKED,
        outcome=AuditOutcome.REFUSED if refused else AuditOutcome.OK,
        reason=refused,
        detail=f"token {token_id}",
    )
    return ended


def audit_log_ready() -> bool:
    """Whether ``LOA_DATABASE_URL`` holds the tracker's audit log yet (it makes it at first start)."""
    engine = make_engine(AccessSettings().database_url)

    async def check() -> bool:
        try:
            return await _has_audit_log(engine)
        finally:
            await engine.dispose()

    return asyncio.run(check())


def issue_token(name: str, grants: frozenset[Grant], days: int) -> tuple[IssuedToken, str]:
    """Issue a token for ``name`` and chain the act into the audit log, as ``loa tokens issue`` does."""
    return _with_store(lambda store, sink: _issue(store, sink, nfc(name), grants, days))


def is_live(token: str) -> bool:
    """Whether the token table accepts ``token`` (neither unknown, expired nor revoked)."""
    return _with_store(lambda store, _sink: store.find(token), audited=False) is not None


@app.command("issue")
def issue(
    name: Annotated[str, typer.Argument(help="the service account, e.g. cms-cong-thong-tin")],
    grant: Annotated[list[str], typer.Option("--grant", "-g", help="role:unit, repeatable")],
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="days until it expires")] = 90,
) -> None:
    """A new token for NAME, printed once: store it in the content system's secrets now."""
    settings = AccessSettings()
    grants = frozenset(parse_grant(g, settings) for g in grant)
    row, token = issue_token(name, grants, days)
    typer.echo(token)
    typer.echo(
        f"issued {row.id} for {row.name}, expires {row.expires_at:%Y-%m-%d %H:%M} UTC; "
        "this token is shown only now",
        err=True,
    )


@app.command("list")
def list_() -> None:
    """Every token's id, account, grants, issuer and expiry (never the token)."""
    rows = _with_store(lambda store, _sink: store.list(), audited=False)
    table = Table("id", "name", "grants", "issued by", "expires", "state")
    for r in rows:
        state = "live" if r.live else ("revoked" if r.revoked_at else "expired")
        expires = f"{r.expires_at:%Y-%m-%d %H:%M}"
        table.add_row(r.id, r.name, grants_text(r.grants), r.issued_by, expires, state)
    console.print(table)


@app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="the id `loa tokens list` shows")]) -> None:
    """End a token now: its next request gets a 401."""
    if not _with_store(lambda store, sink: _revoke(store, sink, token_id)):
        typer.echo(f"error: no live token with id {token_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {token_id}")

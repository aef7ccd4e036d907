"""``loa audit verify``: walk the tracker's audit log and name the first row that breaks the chain."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from loa.audit.verify import Anchor, Verdict, verify
from loa.db import make_engine
from loa.settings import LoaSettings

app = typer.Typer(no_args_is_help=True, help="The audit log (hash-chained, in the tracker's database).")


async def _verify(url: str, anchor: Anchor | None) -> Verdict:
    engine = make_engine(url)
    try:
        return await verify(engine, anchor)
    finally:
        await engine.dispose()


@app.command("verify")
def verify_command(
    database_url: Annotated[
        str | None,
        typer.Option(help="the tracker's database (default: LOA_DATABASE_URL)", show_default=False),
    ] = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH of a head printed earlier and kept elsewhere: proves the log was not cut"
        ),
    ] = None,
) -> None:
    """Exit 0 if every row chains to the one before; exit 1 naming the first bad row."""
    try:
        checkpoint = Anchor.parse(anchor) if anchor else None
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--anchor") from None
    verdict = asyncio.run(_verify(database_url or LoaSettings().database_url, checkpoint))
    head = f"head {verdict.head.seq}:{verdict.head.hash}" if verdict.head else "no rows"
    if verdict.ok:
        typer.echo(f"audit log intact: {verdict.rows} rows, {head}")
        typer.echo("keep the head elsewhere; pass it later as --anchor to prove no row after it was cut")
        return
    typer.echo(f"audit log BROKEN at row {verdict.bad_seq}: {verdict.problem}", err=True)
    typer.echo(f"rows before it are intact ({verdict.rows}, {head})", err=True)
    raise typer.Exit(1)

"""``loa accounts add|list|update|remove|rotate-key CHANNEL ...``: a channel's accounts, in its job store.

The command writes the channel's store directly (``LOA_PUBLISHER_DATABASE_URL``, or
``.loa/data/publisher-<channel>.db`` run from the repository root; ``--database-url`` overrides),
encrypting credentials with ``LOA_CREDENTIALS_KEY``. The running publisher sees the new version
on its next claim: no restart, and an account parked by an auth error comes back.
Credentials are never printed; give them as ``-c key=value`` or ``-c key`` to be asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from loa.publisher.accounts import AccountError, AccountStore, load_cipher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate

app = typer.Typer(no_args_is_help=True, help="Manage a channel's accounts (credentials encrypted at rest).")

T = TypeVar("T")
Credential = Annotated[
    list[str] | None, typer.Option("--credential", "-c", help="key=value, or key alone to be asked for")
]
Option = Annotated[list[str] | None, typer.Option("--option", "-o", help="key=value (JSON values allowed)")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="the channel's job store")]


def _with_store(channel: str, database_url: str | None, work: Callable[[AccountStore], Awaitable[T]]) -> T:
    settings = PublisherSettings()

    async def go() -> T:
        engine = make_engine(database_url or settings.job_store_url(channel))
        try:
            await migrate(engine)
            store = AccountStore(engine, channel, load_cipher(settings))
            await store.seal_legacy()
            return await work(store)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except AccountError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


def _credentials(items: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key:
            raise typer.BadParameter(f"--credential {item!r}: expected key=value or key")
        values[key] = value if sep else typer.prompt(f"{key}", hide_input=True)
    return values


def _options(items: list[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise typer.BadParameter(f"--option {item!r}: expected key=value")
        try:
            values[key] = json.loads(value)
        except json.JSONDecodeError:
            values[key] = value
    return values


@app.command("add")
def add(
    channel: str,
    name: str,
    credential: Credential = None,
    option: Option = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add an account to CHANNEL."""
    creds, opts = _credentials(credential), _options(option)
    version = _with_store(channel, database_url, lambda s: s.add(name, creds, opts))
    typer.echo(f"added {channel}/{name} (version {version})")


@app.command("update")
def update(
    channel: str,
    name: str,
    credential: Credential = None,
    option: Option = None,
    replace: Annotated[bool, typer.Option(help="replace credentials/options instead of merging")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Change credentials and/or options; the publisher picks the new version up without a restart."""
    creds, opts = _credentials(credential), _options(option)
    version = _with_store(
        channel,
        database_url,
        lambda s: s.update(name, credentials=creds or None, options=opts or None, merge=not replace),
    )
    typer.echo(f"updated {channel}/{name} (version {version})")


@app.command("remove")
def remove(channel: str, name: str, database_url: DatabaseUrl = None) -> None:
    """Remove an account (its jobs wait in needs_attention until it is added again)."""
    _with_store(channel, database_url, lambda s: s.remove(name))
    typer.echo(f"removed {channel}/{name}")


@app.command("list")
def list_accounts(channel: str, database_url: DatabaseUrl = None) -> None:
    """Names, options, version and state: never the credentials (only their names)."""
    infos = _with_store(channel, database_url, lambda s: s.list())
    for info in infos:
        state = "needs attention (credentials refused)" if info.parked else "ok"
        if info.tampered:
            state = "needs attention (options changed outside loa accounts: set them again)"
        names = ", ".join(info.credential_names) or "-"
        options = json.dumps(dict(info.options), ensure_ascii=False)
        typer.echo(f"{info.name}\tversion {info.version}\t{state}\tcredentials: {names}\toptions: {options}")


@app.command("rotate-key")
def rotate_key(channel: str, database_url: DatabaseUrl = None) -> None:
    """Encrypt every account of CHANNEL again with the first key of LOA_CREDENTIALS_KEY.

    Rotation: put the new key first (LOA_CREDENTIALS_KEY=new,old), run this for each channel,
    then drop the old key. Accounts whose options were changed outside `loa accounts` are left
    as they are and named: set their options again with `loa accounts update`.
    """
    written, refused = _with_store(channel, database_url, lambda s: s.reseal(only_legacy=False))
    typer.echo(f"{channel}: {written} account(s) encrypted with the newest key")
    for name in refused:
        typer.echo(f"{channel}/{name}: not rotated, its options were changed outside loa accounts", err=True)
    if refused:
        raise typer.Exit(1)

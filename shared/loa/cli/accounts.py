"""``loa accounts add|list|update|remove|rotate-key CHANNEL ...``: a channel's accounts.

``add``, ``update``, ``remove`` and ``list`` go through the tracker's accounts API
(``LOA_TRACKER_URL``, an admin's ``LOA_API_TOKEN``): audited, and applied by the channel's
publisher within seconds (``account.set`` on ``loa.commands.v1``). With ``--database-url`` they
write that job store directly instead, encrypting with ``LOA_CREDENTIALS_KEY``: for a machine
without a tracker (a first setup, a tracker that is down), not audited. ``rotate-key`` always works
on the store (only the store holds every account's credentials).
Credentials are never printed; give them as ``-c key=value`` or ``-c key`` to be asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from loa.cli.tracker_client import call, tracker
from loa.publisher.accounts import AccountError, AccountStore, load_cipher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate

app = typer.Typer(no_args_is_help=True, help="Manage a channel's accounts (credentials encrypted at rest).")

T = TypeVar("T")
Credential = Annotated[
    list[str] | None, typer.Option("--credential", "-c", help="key=value, or key alone to be asked for")
]
Option = Annotated[list[str] | None, typer.Option("--option", "-o", help="key=value (JSON values allowed)")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="write this job store directly instead of the API (not audited)"),
]
Unit = Annotated[str | None, typer.Option("--unit", help="the unit the account speaks for")]
Expires = Annotated[
    str | None, typer.Option("--expires", help="when its token stops working (ISO 8601, with its zone)")
]


def _api_body(
    creds: dict[str, str], opts: dict[str, Any], unit: str | None, expires: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"credentials": creds, "options": opts}
    if unit is not None:
        body["unit"] = unit
    if expires is not None:
        body["expires_at"] = expires
    return body


def _direct_only(unit: str | None, expires: str | None) -> None:
    if unit is not None or expires is not None:
        raise typer.BadParameter("--unit and --expires are kept by the tracker: leave out --database-url")


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
    unit: Unit = None,
    expires: Expires = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add an account to CHANNEL."""
    creds, opts = _credentials(credential), _options(option)
    if database_url is None:
        body = {"channel": channel, "name": name, **_api_body(creds, opts, unit, expires)}
        with tracker() as client:
            call(client, "POST", "/api/v1/accounts", body)
        typer.echo(f"added {channel}/{name}; its publisher applies it within seconds")
        return
    _direct_only(unit, expires)
    version = _with_store(channel, database_url, lambda s: s.add(name, creds, opts))
    typer.echo(f"added {channel}/{name} (version {version})")


@app.command("update")
def update(
    channel: str,
    name: str,
    credential: Credential = None,
    option: Option = None,
    replace: Annotated[bool, typer.Option(help="replace credentials/options instead of merging")] = False,
    unit: Unit = None,
    expires: Expires = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change credentials and/or options; the publisher picks the new version up without a restart."""
    creds, opts = _credentials(credential), _options(option)
    if database_url is None:
        body = {**_api_body(creds, opts, unit, expires), "replace": replace}
        with tracker() as client:
            call(client, "PATCH", f"/api/v1/accounts/{channel}/{name}", body)
        typer.echo(f"updated {channel}/{name}; its publisher applies it within seconds")
        return
    _direct_only(unit, expires)
    version = _with_store(
        channel,
        database_url,
        lambda s: s.update(name, credentials=creds or None, options=opts or None, merge=not replace),
    )
    typer.echo(f"updated {channel}/{name} (version {version})")


@app.command("remove")
def remove(channel: str, name: str, database_url: DatabaseUrl = None) -> None:
    """Remove an account (its jobs wait in needs_attention until it is added again)."""
    if database_url is None:
        with tracker() as client:
            call(client, "DELETE", f"/api/v1/accounts/{channel}/{name}")
        typer.echo(f"removed {channel}/{name}")
        return
    _with_store(channel, database_url, lambda s: s.remove(name))
    typer.echo(f"removed {channel}/{name}")


@app.command("list")
def list_accounts(channel: str, database_url: DatabaseUrl = None) -> None:
    """Names, options, version and state: never the credentials (only their names)."""
    if database_url is None:
        with tracker() as client:
            listed = call(client, "GET", "/api/v1/accounts")
        for a in listed:
            if a["channel"] == channel:
                typer.echo(_api_line(a))
        return
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


def _api_line(a: dict[str, Any]) -> str:
    state = "needs attention (credentials refused)" if a["parked"] else "ok"
    if a["expired"]:
        state = "needs attention (token expired)"
    names = ", ".join(a["credential_names"]) or "-"
    options = json.dumps(a["options"], ensure_ascii=False)
    return (
        f"{a['name']}\tunit {a['unit'] or '-'}\tversion {a['version']}\t{state}\t"
        f"expires {a['expires_at'] or '-'}\tcredentials: {names}\toptions: {options}"
    )

"""``loa archive``: export the archive of record as a signed ZIP, check one, make the signing key."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from loa.archive import signing
from loa.archive.bundle import build_zip, collect, verify
from loa.archive.settings import ArchiveSettings

app = typer.Typer(no_args_is_help=True, help="The archive of record (signed exports, their check).")


def _day(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day (YYYY-MM-DD)", param_hint=option) from None


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="the ZIP to write")],
    content_id: Annotated[
        list[str] | None, typer.Option("--content-id", help="a content (repeat for more)")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="first day archived, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day archived, YYYY-MM-DD (UTC)")] = None,
) -> None:
    """Every record, payload and answer of the contents asked, with a signed manifest."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if not content_id and first is None:
        raise typer.BadParameter("give --content-id, or --from (and --to) for a period")
    settings = ArchiveSettings()
    try:
        key = signing.private_key(settings.archive_signing_key.get_secret_value())
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    store = settings.archive_store()
    ids = list(content_id or [])
    scope: dict[str, object] = {"content_ids": ids}
    if first is not None:
        last = last or first
        ids += store.contents_between(first, last)
        scope.update({"from": first.isoformat(), "to": last.isoformat()})
    files = collect(store, dict.fromkeys(ids))
    output.write_bytes(build_zip(files, scope, key))
    typer.echo(
        f"{output}: {len(files)} files of {len(set(ids))} contents, signed by {signing.public_b64(key)}"
    )


@app.command("verify")
def verify_command(
    zip_file: Annotated[Path, typer.Argument(help="an export of loa archive export")],
    public_key: Annotated[
        str | None,
        typer.Option(
            help="base64 Ed25519 public key to trust (default: LOA_ARCHIVE_PUBLIC_KEY, else the public "
            "key of LOA_ARCHIVE_SIGNING_KEY)"
        ),
    ] = None,
) -> None:
    """Exit 0 if the signature, every file and every chain hold; exit 1 naming each bad file."""
    settings = ArchiveSettings()
    own = settings.archive_signing_key.get_secret_value()
    trusted = public_key or settings.archive_public_key
    if not trusted and own:  # this office's own key (an export of someone else's needs --public-key)
        try:
            trusted = signing.public_b64(signing.private_key(own))
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    if not trusted:
        raise typer.BadParameter(
            "no key to trust: pass --public-key, or set LOA_ARCHIVE_PUBLIC_KEY (or LOA_ARCHIVE_SIGNING_KEY)"
        )
    try:
        key = signing.public_key(trusted)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--public-key") from None
    verdict = verify(zip_file.read_bytes(), key)
    if verdict.ok:
        typer.echo(
            f"{zip_file}: intact: {verdict.files} files, "
            f"{verdict.records} records of {verdict.contents} contents"
        )
        return
    for problem in verdict.problems:
        typer.echo(f"{zip_file}: {problem}", err=True)
    raise typer.Exit(1)


@app.command("keygen")
def keygen_command() -> None:
    """A new signing key for LOA_ARCHIVE_SIGNING_KEY (keep it secret) and its public key."""
    private = signing.new_private_b64()
    typer.echo(f"LOA_ARCHIVE_SIGNING_KEY={private}")
    typer.echo(f"LOA_ARCHIVE_PUBLIC_KEY={signing.public_b64(signing.private_key(private))}")


@app.command("public-key")
def public_key_command() -> None:
    """The public key of LOA_ARCHIVE_SIGNING_KEY: publish it, so anyone can check an export."""
    try:
        key = signing.private_key(ArchiveSettings().archive_signing_key.get_secret_value())
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(signing.public_b64(key))

"""``loa publish ARTICLE.md`` and ``loa retract ID --reason ...``, through the ingest API.

The ingest URL and token come from settings: ``LOA_INGEST_URL`` and ``LOA_API_TOKEN``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from loa.cli.article import Article, ArticleError, MediaFile, load_article
from loa.events import Content, ContentApproved, utcnow
from loa.kafka import describe_validation_error
from loa.settings import LoaSettings

UPLOAD_CHUNK = 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, read=600.0, write=600.0)

console = Console()
errors = Console(stderr=True)


class IngestError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", f"HTTP {status}"))
        self.status = status
        self.error = error


def _client(settings: LoaSettings) -> httpx.Client:
    token = settings.api_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=str(settings.ingest_url).rstrip("/"), headers=headers, timeout=TIMEOUT)


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {"error": {"code": "http_error", "message": response.text[:500]}}
    if response.status_code >= 400:
        raise IngestError(response.status_code, body.get("error", {}))
    return body


def _chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(UPLOAD_CHUNK):
            progress.update(task, advance=len(chunk))
            yield chunk


def upload_media(client: httpx.Client, files: list[MediaFile]) -> list[dict[str, Any]]:
    """Upload each file with a progress bar; the media references the ingest answered."""
    refs = []
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=errors) as progress:
        for file in files:
            task = progress.add_task(file.path.name, total=file.size)
            headers = {
                "Content-Type": file.content_type,
                "Content-Length": str(file.size),
                "X-Content-SHA256": file.sha256(),  # lets the ingest store it without a copy
            }
            response = client.post(
                "/api/v1/media", content=_chunks(file.path, progress, task), headers=headers
            )
            stored = _answer(response)
            ref = {k: v for k, v in stored.items() if v is not None}
            refs.append({**ref, "alt": file.alt, "caption": file.caption})
    return refs


def local_media(files: list[MediaFile]) -> list[dict[str, Any]]:
    """The references the files will have once uploaded (hashed locally, nothing sent)."""
    refs = []
    for file in files:
        digest = file.sha256()
        refs.append(
            {
                "key": f"sha256/{digest}",
                "sha256": digest,
                "content_type": file.content_type,
                "size": file.size,
                "alt": file.alt,
                "caption": file.caption,
            }
        )
    return refs


def _print_error(e: IngestError) -> None:
    errors.print(
        f"[red]ingest refused it ({e.status} {e.error.get('code', '')}):[/red] {e.error.get('message')}"
    )
    for item in e.error.get("fields", []):
        errors.print(f"  {item.get('field')}: {item.get('reason')}")


@contextmanager
def _exit_on_ingest_errors(where: str = "") -> Iterator[None]:
    """Print the ingest's refusal, or that it cannot be reached (``where``: " at <url>"); exit 1."""
    try:
        yield
    except IngestError as e:
        _print_error(e)
        raise typer.Exit(1) from e
    except httpx.HTTPError as e:
        errors.print(f"[red]cannot reach the ingest{where}:[/red] {type(e).__name__}")
        raise typer.Exit(1) from e


def _submission(article: Article, media: list[dict[str, Any]], claim: str | None) -> dict[str, Any]:
    payload = {**article.payload, "media": media}
    if claim:
        payload["approver_claim"] = claim
    return {"payload": payload}


def publish(
    article: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Markdown + YAML front matter")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate and show the event; send nothing")
    ] = False,
    approver_claim: Annotated[
        str | None,
        typer.Option(
            "--approver-claim",
            "--approved-by",
            help="who your office recorded as approving it, passed on as a claim; the approver Loa "
            "records is the account of LOA_API_TOKEN",
        ),
    ] = None,
) -> None:
    """Upload the article's media, then submit it for publishing on its channels."""
    try:
        loaded = load_article(article)
    except ArticleError as e:
        errors.print(f"[red]{escape(str(article))}:[/red] {escape(str(e))}")
        raise typer.Exit(2) from e
    settings = LoaSettings()
    if dry_run:
        submission = _submission(loaded, local_media(loaded.media), approver_claim)
        payload = submission["payload"]
        payload["approved_by"] = "loa-cli"  # the ingest sets the account it authenticates
        payload.setdefault("approved_at", utcnow().isoformat())
        try:
            event = ContentApproved(payload=Content.model_validate(payload), producer="loa-cli")
        except ValidationError as e:
            errors.print(f"[red]invalid:[/red] {escape(describe_validation_error(e))}")
            raise typer.Exit(1) from e
        console.print_json(event.model_dump_json())
        _print_previews(event.payload, settings)
        errors.print("[dim]dry run: nothing uploaded or sent; approved_at is set by the ingest[/dim]")
        return
    with _client(settings) as client, _exit_on_ingest_errors(f" at {settings.ingest_url}"):
        media = upload_media(client, loaded.media)
        submission = _submission(loaded, media, approver_claim)
        body = json.dumps(submission, ensure_ascii=False).encode()
        digest = hashlib.sha256(body).hexdigest()[:16]
        key = f"loa-cli-{loaded.payload['id']}-v{loaded.payload['version']}-{digest}"
        answer = _answer(
            client.post(
                "/api/v1/contents",
                content=body,
                headers={"Content-Type": "application/json", "Idempotency-Key": key},
            )
        )
    console.print_json(json.dumps(answer, ensure_ascii=False))


def retract(
    content_id: Annotated[str, typer.Argument(help="the content id")],
    reason: Annotated[str, typer.Option("--reason", help="why it comes down (kept in the record)")],
) -> None:
    """Take a content down on every channel."""
    with _client(LoaSettings()) as client, _exit_on_ingest_errors():
        answer = _answer(client.post(f"/api/v1/contents/{content_id}/retract", json={"reason": reason}))
    console.print_json(json.dumps(answer, ensure_ascii=False))


def _print_previews(content: Content, settings: LoaSettings) -> None:
    """What each target channel would receive (texts as the channel counts them), on stderr: stdout
    stays the event's JSON, for scripts."""
    from rich.table import Table

    from loa.channels.preview import previews

    table = Table(title="What each channel would receive", show_lines=True)
    for column in ("Channel", "Title", "Text (count / limit)"):
        table.add_column(column, overflow="fold")
    for preview in previews(content, settings):
        where = f"{preview.target.channel}:{preview.target.account}"
        if preview.problem:
            table.add_row(where, "", f"[red]{escape(preview.problem)}[/red]")
            continue
        texts = "\n\n".join(
            f"{escape(text)}\n[dim]({count} / {limit if limit is not None else '-'})[/dim]"
            for text, count, limit in preview.texts
        )
        if preview.note:
            texts += f"\n[yellow]{escape(preview.note)}[/yellow]"
        table.add_row(where, escape(preview.title or ""), texts)
    errors.print(table)

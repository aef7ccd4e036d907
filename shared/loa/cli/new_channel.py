"""``loa new-channel NAME``: scaffold a working channel from the webhook adapter's pattern.

Writes ``services/NAME/`` (adapter, settings, ``__main__``, README of its limits) and
``tests/channels/NAME/test_NAME.py`` (the shared adapter contract), then registers the adapter under
the ``loa.channels`` entry point of ``pyproject.toml`` and adds the service to
``deploy/local/services.Procfile`` (``make run``) and to ``docker-compose.yml``, each if present.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Annotated

import typer
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from loa.settings import REPO_ROOT

TEMPLATES = Path(__file__).parent / "templates" / "new_channel"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
RESERVED = {"sandbox", "webhook", "ingest", "tracker", "website", "publisher", "loa", "shared", "tests"}

FILES = {
    "__init__.py.j2": "services/{name}/__init__.py",
    "adapter.py.j2": "services/{name}/adapter.py",
    "settings.py.j2": "services/{name}/settings.py",
    "__main__.py.j2": "services/{name}/__main__.py",
    "README.md.j2": "services/{name}/README.md",
    "test_channel.py.j2": "tests/channels/{name}/test_{name}.py",
}
PYPROJECT = Path("pyproject.toml")
ENTRY_POINTS = '[project.entry-points."loa.channels"]'
PROCFILE = Path("deploy/local/services.Procfile")
PROCFILE_HEADER = "# The Loa services that `make run` starts, one a line: <name>: <command>\n"
COMPOSE = Path("docker-compose.yml")


class ScaffoldError(ValueError):
    """The channel cannot be scaffolded here (bad name, already there)."""


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise ScaffoldError(
            f"name: {name!r} must be 2-32 characters of a-z, 0-9 and _, starting with a letter"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise ScaffoldError(f"name: {name!r} is reserved")


def class_prefix(name: str) -> str:
    """``zalo_oa`` → ``ZaloOa``."""
    return "".join(part.capitalize() for part in name.split("_"))


def render_files(name: str, root: Path) -> list[Path]:
    env = Environment(  # noqa: S701 - generates Python and Markdown, not HTML
        loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True
    )
    targets = {template: root / path.format(name=name) for template, path in FILES.items()}
    existing = [str(p.relative_to(root)) for p in targets.values() if p.exists()]
    if existing:
        raise ScaffoldError(f"name: {name!r} already exists ({', '.join(existing)})")
    for template, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(env.get_template(template).render(name=name, cls=class_prefix(name)), "utf-8")
    return list(targets.values())


def add_to_procfile(name: str, root: Path) -> Path:
    """Append ``NAME: python -m services.NAME`` (creating the file if missing)."""
    path = root / PROCFILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text("utf-8") if path.exists() else PROCFILE_HEADER
    if re.search(rf"^{re.escape(name)}\s*:", text, re.MULTILINE):
        raise ScaffoldError(f"name: {name!r} is already in {PROCFILE}")
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(f"{text}{name}: python -m services.{name}\n", "utf-8")
    return path


def add_entry_point(name: str, root: Path) -> Path | None:
    """Register ``services.NAME.adapter`` in the ``loa.channels`` table of ``pyproject.toml``, if the
    file exists (the table is added when missing): discovery finds channels by entry point only."""
    path = root / PYPROJECT
    if not path.exists():
        return None
    lines = path.read_text("utf-8").splitlines(keepends=True)
    line = f'{name} = "services.{name}.adapter:{class_prefix(name)}Adapter"\n'
    try:
        start = next(i for i, text in enumerate(lines) if text.strip() == ENTRY_POINTS)
    except StopIteration:
        lines.append(f"\n{ENTRY_POINTS}\n{line}")
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        if any(text.split("=")[0].strip() == name for text in lines[start + 1 : end]):
            raise ScaffoldError(f"name: {name!r} already has an entry point in {PYPROJECT}")
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1  # before the blank lines, and the comment heading the next table, that close it
        lines.insert(end, line)
    path.write_text("".join(lines), "utf-8")
    return path


def compose_entry(name: str, text: str) -> str:
    if "&loa-service" in text:  # the shared service block of Loa's compose file
        return f'  {name}:\n    <<: *loa-service\n    command: ["python", "-m", "services.{name}"]\n'
    return (
        f'  {name}:\n    build: .\n    command: ["python", "-m", "services.{name}"]\n'
        "    environment:\n      LOA_KAFKA_BOOTSTRAP: kafka:9092\n"
    )


def add_to_compose(name: str, root: Path) -> Path | None:
    """Insert a service at the end of the top-level ``services:`` block, if the file exists."""
    path = root / COMPOSE
    if not path.exists():
        return None
    lines = path.read_text("utf-8").splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "services:")
    except StopIteration:
        raise ScaffoldError(f"{COMPOSE}: no top-level 'services:' block") from None
    if any(line.rstrip() == f"  {name}:" for line in lines[start:]):
        raise ScaffoldError(f"name: {name!r} is already a service in {COMPOSE}")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in {" ", "\n", "#", ""}), len(lines)
    )
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # keep the blank line(s) before the next top-level key
    entry = "\n" + compose_entry(name, "".join(lines))
    lines.insert(end, entry)
    path.write_text("".join(lines), "utf-8")
    return path


def scaffold(name: str, root: Path) -> list[Path]:
    """Create the channel's files and service entries under ``root``; returns what was written."""
    check_name(name)
    written = render_files(name, root)
    written.append(add_to_procfile(name, root))
    written.extend(p for p in (add_entry_point(name, root), add_to_compose(name, root)) if p is not None)
    return written


def new_channel(
    name: Annotated[str, typer.Argument(help="the channel's name: a-z, 0-9, _ (e.g. zalo_oa)")],
    root: Annotated[Path, typer.Option(help="the repository to scaffold in")] = REPO_ROOT,
) -> None:
    """Scaffold services/NAME/ (a working adapter on the contract suite) and its service entries."""
    try:
        written = scaffold(name, root.resolve())
    except ScaffoldError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    for path in written:
        typer.echo(f"wrote {path.relative_to(root.resolve())}")
    typer.echo("next: `make setup` (reinstalls the package, so its new entry point is registered),")
    typer.echo(f"      edit services/{name}/adapter.py, then pytest tests/channels/{name}")

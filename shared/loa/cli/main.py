"""``loa``: publish, follow and retract content; manage accounts; run the local stack.

Each command group lives in a module of its own and is registered here, one line each.
"""

from __future__ import annotations

import typer

from loa.cli import status

app = typer.Typer(no_args_is_help=True, help="Loa: publish approved content to every channel.")
app.command("status")(status.status)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

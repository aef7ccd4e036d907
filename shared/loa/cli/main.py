"""``loa``: publish, follow and retract content; manage accounts; run the local stack.

Each command group lives in a module of its own and is registered here, one line each.
"""

from __future__ import annotations

import typer

from loa.cli import accounts, archive, audit, holds, new_channel, press_lists, publish, stack, status, tokens

app = typer.Typer(no_args_is_help=True, help="Loa: publish approved content to every channel.")
app.command("publish")(publish.publish)
app.command("status")(status.status)
app.command("retract")(publish.retract)
app.command("hold")(holds.hold)
app.command("release")(holds.release)
app.add_typer(accounts.app, name="accounts")
app.add_typer(press_lists.app, name="press-lists")
app.command("new-channel")(new_channel.new_channel)
app.add_typer(stack.app, name="stack")
app.add_typer(tokens.app, name="tokens")
app.add_typer(audit.app, name="audit")
app.add_typer(archive.app, name="archive")


@app.callback()
def _commands() -> None:
    """Loa: publish approved content to every channel."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()

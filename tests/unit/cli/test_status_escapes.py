"""`loa status` shows platform text as text: rich markup in it is printed, not obeyed."""

from rich.console import Console

from loa.cli.status import table

HOSTILE = "[conceal]Bài viết đã bị gỡ[/conceal] [link=https://evil.example]Đăng nhập lại[/link]"


def render(title: str, delivery: dict[str, object]) -> str:
    console = Console(record=True, width=400, color_system=None)
    console.print(table("c-1", title, [delivery]))
    return console.export_text()


def test_error_message_title_and_account_are_printed_literally() -> None:
    delivery = {
        "channel": "facebook",
        "account": "[bold]trang-bo[/bold]",
        "state": "failed",
        "attempt": 3,
        "last_error": {"error_class": "permanent", "code": "190", "message": HOSTILE},
    }
    text = render("Thông cáo [red]báo chí[/red]", delivery)
    assert "[conceal]Bài viết đã bị gỡ[/conceal]" in text
    assert "[link=https://evil.example]Đăng nhập lại[/link]" in text
    assert "[bold]trang-bo[/bold]" in text
    assert "Thông cáo [red]báo chí[/red]" in text


def test_states_keep_their_colours() -> None:
    console = Console(record=True, width=200, color_system="truecolor", force_terminal=True)
    delivery = {
        "channel": "x",
        "account": "bo",
        "state": "published",
        "attempt": 1,
        "public_url": "https://x.com/i/1",
    }
    console.print(table("c-2", None, [delivery]))
    assert "\x1b[32mpublished" in console.export_text(styles=True)

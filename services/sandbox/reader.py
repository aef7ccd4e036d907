"""The reader page at ``/``: every platform's received posts, as a reader would see them.

Each emulator contributes its card with ``sandbox.register_card(platform, template)``; a platform
without one shows its records as JSON. Everything is autoescaped: posts are untrusted input.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup

from services.sandbox.frame import Record, sandbox

router = APIRouter(tags=["reader"])

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_env.filters["pretty_json"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2, default=str)


def http_url(value: object) -> str:
    """``value`` if it is an http(s) URL, else ``#``: cards never link to ``javascript:``."""
    text = str(value)
    return text if urlsplit(text).scheme in {"http", "https"} else "#"


_env.filters["http_url"] = http_url

DEFAULT_CARD = """<pre class="raw">{{ data | pretty_json }}</pre>"""


@lru_cache(maxsize=64)
def _compile(source: str) -> Template:
    return _env.from_string(source)


def render_card(record: Record) -> Markup:
    card = sandbox.cards.get(record.platform)
    template = _compile(card.template if card else DEFAULT_CARD)
    return Markup(template.render(record=record, data=record.data))  # noqa: S704 - autoescaped above


def shown(record: Record) -> bool:
    card = sandbox.cards.get(record.platform)
    if card is None:
        return True
    if card.kinds is not None and record.kind not in card.kinds:
        return False
    return card.visible is None or card.visible(record)


@router.get("/", response_class=HTMLResponse)
def reader(platform: str | None = None) -> HTMLResponse:
    records = [r for r in reversed(sandbox.list(platform)) if shown(r)]
    by_platform: dict[str, list[tuple[Record, Markup]]] = {}
    for record in records:
        by_platform.setdefault(record.platform, []).append((record, render_card(record)))
    html = _env.get_template("reader.html").render(
        by_platform=dict(sorted(by_platform.items())),
        stats=sandbox.stats(),
        platform=platform,
        now=sandbox.now(),
    )
    return HTMLResponse(html)

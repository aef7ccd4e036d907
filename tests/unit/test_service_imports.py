"""What a service process loads is resident memory it keeps (issue #20: every service ≤ 120 MB;
``bench/rss.py`` prints the figures). Each service's entry module is imported in a fresh interpreter,
as its process starts, and must not load libraries the service never uses: httpx's command-line
client and Mako's highlighting (rich, pygments: ``loa.UNUSED_EXTRAS``), FastAPI in a process that
serves no FastAPI app, ``requests`` where no SDK of the channel uses it, Markdown (only ``loa article``
converts it); nor, until they are needed, Alembic (a store not at its latest revision,
``loa.db.migrate``), asyncpg (an engine on PostgreSQL, or an app that may have one,
``loa.outages.handle_unexpected``) and PyYAML (a seed file of accounts, a tracker's alerts file); nor,
in the tracker and the ingest, a platform's SDK (only a publisher's calls load it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loa.settings import CHECKOUT_PYTHONPATH

ROOT = Path(__file__).resolve().parents[2]
WATCHED = ("rich", "pygments", "fastapi", "requests", "alembic", "asyncpg", "markdown", "yaml")
EVERY_SERVICE = {"rich", "pygments", "alembic", "asyncpg", "markdown", "yaml"}

NOT_LOADED = {
    "tracker": EVERY_SERVICE | {"requests"},
    "ingest": EVERY_SERVICE | {"requests"},
    "webhook": set(WATCHED),
    "zalo": set(WATCHED),
    "email": set(WATCHED),
    "tiktok": set(WATCHED),
    "youtube": EVERY_SERVICE | {"fastapi"},
    "facebook": EVERY_SERVICE | {"fastapi"},  # facebook-sdk calls Graph with requests
    "x": EVERY_SERVICE | {"fastapi"},  # tweepy calls X with requests
}


def printed(code: str, env: dict[str, str]) -> Any:
    """The JSON ``code`` printed last, run in a fresh interpreter of this checkout, as a service starts."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "PYTHONPATH": CHECKOUT_PYTHONPATH},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def loaded(service: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module('services.{service}.__main__')\n"
        f"print(json.dumps([m for m in {list(WATCHED)!r} if m in sys.modules]))\n"
    )
    return set(printed(code, dict(os.environ)))


@pytest.mark.parametrize("service", sorted(NOT_LOADED))
def test_a_service_does_not_load_what_it_never_uses(service: str) -> None:
    assert not loaded(service) & NOT_LOADED[service]


SDKS = ("tweepy", "googleapiclient", "facebook", "dkim", "dns", "requests", "httplib2", "oauthlib")


def test_the_tracker_started_loads_no_adapter_nor_platform_sdk(tmp_path: Path) -> None:
    # Its settings took each publisher's port from the adapters, in the process: +19 MB resident.
    # A child process reads them now (services.tracker.installed_publishers).
    code = (
        "import json, sys\n"
        "from services.tracker.app import create_app\n"
        "from services.tracker.settings import TrackerSettings\n"
        "create_app(TrackerSettings())\n"
        f"print(json.dumps([m for m in sys.modules if m.endswith('.adapter') or m in {list(SDKS)!r}]))\n"
    )
    env = {**os.environ, "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}"}
    env.pop("LOA_TRACKER_PUBLISHER_HEALTH", None)
    assert printed(code, env) == []


def test_the_ingest_started_and_previewing_loads_no_platform_sdk(tmp_path: Path) -> None:
    # It loads every channel's adapter (a target is checked at submission, a preview rendered by
    # its channel's adapter): their SDKs came with them, +14 MB resident (bench/rss.py). Each
    # loads now with its adapter's first platform call, which the ingest never makes.
    code = (
        "import json, sys\n"
        "from datetime import UTC, datetime\n"
        "from loa.channels.preview import previews\n"
        "from loa.events import Content, Target\n"
        "from services.ingest.app import create_app\n"
        "from services.ingest.settings import IngestSettings\n"
        "settings = IngestSettings()\n"
        "adapters = create_app(settings).state.ingest.targets.adapters\n"
        "targets = [Target(channel=c, account='bo') for c in sorted(adapters)]\n"
        "content = Content(id='tb-01', version=1, title='Đính chính thông tin', unit='Văn phòng Bộ',\n"
        "    approved_by='Lê Văn Đạt', approved_at=datetime.now(UTC), targets=targets)\n"
        "shown = previews(content, settings)\n"
        f"sdks = [m for m in {list(SDKS)!r} if m in sys.modules]\n"
        "print(json.dumps([[p.target.channel for p in shown], sdks]))\n"
    )
    env = {
        **os.environ,
        "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ingest.db'}",
        "LOA_KAFKA_SASL_USERNAME": "loa-ingest",  # its producer is made, not started
    }
    rendered, sdks = printed(code, env)
    assert {"facebook", "x", "youtube", "email"} <= set(rendered)
    assert sdks == []


def test_httpx_still_works_without_its_command_line() -> None:
    # the ImportError httpx catches leaves it a `main` that explains itself; requests go as before
    import httpx

    import loa

    assert "httpx._main" in loa.UNUSED_EXTRAS
    assert httpx.Request("GET", "http://127.0.0.1/").url.host == "127.0.0.1"
    assert callable(httpx.main)

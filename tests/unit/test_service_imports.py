"""What a service process loads is resident memory it keeps (issue #20: every service ≤ 120 MB;
``bench/rss.py`` prints the figures). Each service's entry module is imported in a fresh interpreter,
as its process starts, and must not load libraries the service never uses: httpx's command-line
client and Mako's highlighting (rich, pygments: ``loa.UNUSED_EXTRAS``), FastAPI in a process that
serves no FastAPI app, ``requests`` where no SDK of the channel uses it, Markdown (only ``loa article``
converts it); nor, until they are needed, Alembic (a store not at its latest revision,
``loa.db.migrate``), asyncpg (an engine on PostgreSQL, or an app that may have one,
``loa.outages.handle_unexpected``) and PyYAML (a seed file of accounts, a tracker's alerts file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def loaded(service: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module('services.{service}.__main__')\n"
        f"print(json.dumps([m for m in {list(WATCHED)!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": CHECKOUT_PYTHONPATH}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("service", sorted(NOT_LOADED))
def test_a_service_does_not_load_what_it_never_uses(service: str) -> None:
    assert not loaded(service) & NOT_LOADED[service]


SDKS = ("tweepy", "googleapiclient", "facebook", "dkim", "dns")


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
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}",
    }
    env.pop("LOA_TRACKER_PUBLISHER_HEALTH", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.splitlines()[-1]) == []


def test_httpx_still_works_without_its_command_line() -> None:
    # the ImportError httpx catches leaves it a `main` that explains itself; requests go as before
    import httpx

    import loa

    assert "httpx._main" in loa.UNUSED_EXTRAS
    assert httpx.Request("GET", "http://127.0.0.1/").url.host == "127.0.0.1"
    assert callable(httpx.main)

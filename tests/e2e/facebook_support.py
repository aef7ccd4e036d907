"""The Facebook publisher end to end: a Page declared in the Graph API emulator, the publisher
started against it, and what the emulator holds for that Page.

The fixtures are registered through ``tests/e2e/conftest.py`` (as the sandbox's are), so a test
module names them as parameters without importing them (an imported fixture used as a parameter
is a redefinition to ruff, F811). ``facebook_page``, not ``page``: playwright's own fixture is ``page``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from loa.settings import LoaSettings
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.sandbox.client import SandboxClient
from services.sandbox.facebook import GraphPost, state
from services.sandbox.frame import sandbox as sandbox_state
from tests.e2e.support import ChannelRun, StartRun, fast_settings

ACCOUNT = "so-tttt"


def declare_page(sandbox_url: str, name: str = "Sở TT&TT Hà Nội") -> dict[str, str]:
    """A Page declared in the emulator over its control API, with its own token."""
    page = {"id": str(300_000_000_000_000 + uuid.uuid4().int % 10**12), "token": f"EAAG{uuid.uuid4().hex}"}
    httpx.post(f"{sandbox_url}/graph/_sandbox/pages", json=page | {"name": name}).raise_for_status()
    return page


def page_posts(page: dict[str, str]) -> list[GraphPost]:
    """Everything the Page has on the emulator, live or scheduled."""
    return [p for p in state().posts.values() if p.page_id == page["id"]]


def scheduled_posts(page: dict[str, str]) -> list[GraphPost]:
    """The Page's posts the platform holds for later (natively scheduled, not live yet)."""
    return [p for p in page_posts(page) if not p.published]


def live_posts(page: dict[str, str]) -> list[GraphPost]:
    """The Page's posts live now by the emulator's clock (a scheduled one whose time came counts)."""
    st = state()
    st.refresh(sandbox_state.now())
    return [p for p in page_posts(page) if p.published]


@pytest.fixture
def facebook_page(sandbox: SandboxClient, sandbox_url: str) -> dict[str, str]:
    """A fresh Page (``id``, ``token``) in the emulator, reset before each test."""
    return declare_page(sandbox_url)


@pytest.fixture
async def facebook(
    settings: LoaSettings,
    tmp_path: Path,
    sandbox_url: str,
    facebook_page: dict[str, str],
    start_run: StartRun,
) -> ChannelRun:
    """The Facebook publisher (a ``ChannelRun``), started, with one account (``ACCOUNT``) on
    ``facebook_page``."""
    fb = fast_settings(settings, FacebookSettings, tmp_path, facebook_graph_url=f"{sandbox_url}/graph")
    credentials = {"page_access_token": facebook_page["token"]}
    return await start_run(
        ChannelRun(FacebookAdapter, fb, {ACCOUNT: (credentials, {"page_id": facebook_page["id"]})})
    )

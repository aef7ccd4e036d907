"""End-to-end fixtures: the sandbox (HTTP and TLS, one state) in this process, MinIO media, clocks.

Each test runs one channel's real publisher (``support.ChannelRun``) on the real Kafka with its
own topic prefix and job store; the sandbox is reset before each test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from services.sandbox.frame import sandbox as sandbox_state
from services.webhook.adapter import WebhookAdapter
from services.webhook.settings import WebhookSettings
from tests.channels.youtube.support import TlsSandbox, sandbox_over_tls
from tests.e2e.facebook_support import facebook, facebook_page
from tests.e2e.support import WEBHOOK_ACCOUNT, ChannelRun, StartRun, WebhookRun, fast_settings
from tests.sandbox_fixtures import sandbox, sandbox_server, sandbox_url

__all__ = ["StartRun", "facebook", "facebook_page", "sandbox", "sandbox_server", "sandbox_url"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def tls_sandbox(tmp_path_factory: pytest.TempPathFactory, sandbox_server: object) -> Iterator[TlsSandbox]:
    """The same sandbox app (same state) over TLS, for YouTube's SDK which keeps https for uploads."""
    with sandbox_over_tls(tmp_path_factory.mktemp("sandbox-tls")) as server:
        yield server


@pytest.fixture
def media(settings: LoaSettings) -> MediaStore:
    store = MediaStore(settings)
    store.ensure_buckets()
    return store


@pytest.fixture
async def start_run() -> AsyncIterator[StartRun]:
    """``run = await start_run(ChannelRun(...))``: started now, stopped after the test."""
    started: list[ChannelRun] = []

    async def start(run: ChannelRun) -> ChannelRun:
        started.append(run)
        return await run.start()

    yield start
    for run in reversed(started):
        await run.stop()


@pytest.fixture
async def webhook_run(
    settings: LoaSettings, tmp_path: Path, sandbox: SandboxClient, sandbox_url: str, start_run: StartRun
) -> WebhookRun:
    """The webhook publisher, started, with one account (``WEBHOOK_ACCOUNT``) that posts to a fresh
    signed receiver of the sandbox."""
    endpoint, secret = f"cong-noi-bo-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    sandbox.webhook_endpoint(endpoint, secret)
    run = await start_run(
        ChannelRun(
            WebhookAdapter,
            fast_settings(settings, WebhookSettings, tmp_path),
            {WEBHOOK_ACCOUNT: ({"secret": secret}, {"url": f"{sandbox_url}/webhook/{endpoint}"})},
        )
    )
    return WebhookRun(run, endpoint)


@pytest.fixture
def pass_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[timedelta], None]]:
    """Let time pass for the platform (the sandbox's clock) and for the runtime (its due times).

    The runtime reads the time through ``utcnow`` in the dispatcher and the job store; both move
    by the same amount, as they would if the hours really passed.
    """
    from loa.events import utcnow
    from loa.publisher import answers, dispatcher, holds, outcomes, parking, pullback, recovery, withdrawal
    from loa.publisher.store import claims, status_events, writes

    offset = timedelta()
    before = sandbox_state.clock_offset

    def shifted() -> datetime:
        return utcnow() + offset

    # The dispatcher and the job store, module by module (each imported utcnow by name).
    for module in (
        dispatcher,
        answers,
        outcomes,
        parking,
        recovery,
        withdrawal,
        holds,
        pullback,
        claims,
        status_events,
        writes,
    ):
        monkeypatch.setattr(module, "utcnow", shifted)

    def advance(by: timedelta) -> None:
        nonlocal offset
        offset += by
        sandbox_state.clock_offset += by

    yield advance
    sandbox_state.clock_offset = before

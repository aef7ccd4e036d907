"""The Graph API emulator served by uvicorn on an ephemeral port, and a Facebook adapter bound to it.

facebook-sdk talks through ``requests``, so an in-process ASGI transport is not possible: the
sandbox app runs in a thread for the session. Each test gets its own page and token.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import pytest
import uvicorn

from loa.channels import Account, Secret
from loa.events import MediaRef
from loa.settings import LoaSettings
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.sandbox.app import build_app
from services.sandbox.facebook import Page, state
from services.sandbox.frame import sandbox as sandbox_state
from tests.channels.facebook.helpers import FakeContext


class GraphServer:
    """The sandbox app on 127.0.0.1 and an OS-chosen port, in a daemon thread."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(build_app(), log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> GraphServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@pytest.fixture(scope="session")
def graph_url() -> Iterator[str]:
    with GraphServer() as server:
        yield f"{server.url}/graph"


@pytest.fixture
def fb_settings(settings: LoaSettings, graph_url: str) -> FacebookSettings:
    return FacebookSettings(**settings.model_dump(), facebook_graph_url=graph_url)


@pytest.fixture
def context(fb_settings: FacebookSettings) -> FakeContext:
    ctx = FakeContext(fb_settings)
    ctx.media.ensure_buckets()
    return ctx


@pytest.fixture
async def adapter(context: FakeContext, fb_settings: FacebookSettings) -> AsyncIterator[FacebookAdapter]:
    fb = FacebookAdapter(context, fb_settings)
    yield fb
    await fb.aclose()


@pytest.fixture
def page() -> Page:
    """A fresh emulated page with its own token."""
    page_id = str(200_000_000_000_000 + uuid.uuid4().int % 10**12)
    created = Page(page_id, "Sở Thông tin và Truyền thông", f"EAAG{uuid.uuid4().hex}{uuid.uuid4().hex}")
    state().pages[page_id] = created
    return created


@pytest.fixture
def account(page: Page) -> Account:
    return Account(
        channel="facebook",
        name=f"so-tttt-{page.id[-6:]}",
        credentials={"page_access_token": Secret(page.token)},
        options={"page_id": page.id},
    )


@pytest.fixture
def clock() -> Iterator[Callable[[timedelta], None]]:
    """Move the emulator's clock forward; put back after the test."""
    before = sandbox_state.clock_offset

    def advance(by: timedelta) -> None:
        sandbox_state.clock_offset += by

    yield advance
    sandbox_state.clock_offset = before


@pytest.fixture
def put_media(context: FakeContext) -> Callable[[bytes, str], MediaRef]:
    def put(data: bytes, content_type: str) -> MediaRef:
        stored = context.media.put_stream(io.BytesIO(data), content_type, len(data))
        return MediaRef(
            key=stored.key,
            sha256=stored.sha256,
            content_type=content_type,
            size=stored.size,
            alt="Ảnh minh hoạ",
        )

    return put

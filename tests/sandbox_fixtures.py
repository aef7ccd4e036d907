"""The sandbox for tests: the real app served by uvicorn on an ephemeral port, in a thread.

Use from a ``conftest.py``: ``from tests.sandbox_fixtures import sandbox, sandbox_server, sandbox_url``.
The server lives for the session; ``sandbox`` resets it before each test that uses it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from services.sandbox.client import SandboxClient


class ServerThread:
    """A uvicorn server on 127.0.0.1 and an OS-chosen port, stopped by ``stop()``."""

    def __init__(self, app: str) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[ServerThread]:
    server = ServerThread("services.sandbox.app:app").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandbox_url(sandbox_server: ServerThread) -> str:
    """Base URL of a running sandbox (no trailing slash)."""
    return sandbox_server.url


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[SandboxClient]:
    """A client of the session's sandbox, reset before the test."""
    with SandboxClient(sandbox_url) as client:
        client.reset()
        yield client

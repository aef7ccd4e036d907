"""``loa.channels.in_doubt`` on the real clients the adapters use (httpx, requests, httplib2), against
local sockets that stay silent, hang up after the request, refuse, or never finish the handshake."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httplib2
import httpx
import pytest
import requests

from loa.channels.in_doubt import creates, request_sent, transport_error

pytestmark = pytest.mark.unit
BODY = {"message": "Thông cáo báo chí: Đắk Lắk dẫn đầu chuyển đổi số"}
TIMEOUT_S = 0.3


@contextmanager
def server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection-at-a-time server on 127.0.0.1 doing ``answer`` with what it accepts."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)  # the request arrived
            held.append(conn)
            answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/posts"
    finally:
        listener.close()
        for conn in held:
            conn.close()


def silent(conn: socket.socket) -> None:
    """Keep the request, never answer (the platform is slow: a read timeout)."""


def hang_up(conn: socket.socket) -> None:
    """Read the request, close without a word (the connection dropped after it was sent)."""
    conn.close()


@pytest.fixture
def refused_url() -> str:
    """A port nobody listens on: the connection is refused, nothing is sent."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/posts"


@pytest.fixture
def unanswered_handshake() -> Iterator[str]:
    """A listener whose backlog is full: a new connection's SYN is dropped (Linux), so connecting
    times out; nothing of the request is sent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    for _ in range(4):  # more than the backlog holds; the later ones stay in SYN_SENT
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(address)
        fillers.append(filler)
    try:
        yield f"http://127.0.0.1:{address[1]}/posts"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def caught(call: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as raised:
        call()
    return raised.value


def httpx_post(url: str) -> BaseException:
    return caught(lambda: httpx.post(url, json=BODY, timeout=TIMEOUT_S))


def requests_post(url: str) -> BaseException:
    return caught(lambda: requests.post(url, json=BODY, timeout=TIMEOUT_S))


def httplib2_post(url: str) -> BaseException:
    http = httplib2.Http(timeout=TIMEOUT_S)
    return caught(lambda: http.request(url, "POST", body=str(BODY).encode()))


CLIENTS = [httpx_post, requests_post, httplib2_post]


@pytest.mark.parametrize("post", CLIENTS)
def test_a_read_timeout_after_the_request_went_out_is_in_doubt(post: Callable[[str], BaseException]) -> None:
    with server(silent) as url:
        error = post(url)
    assert request_sent(error), f"{error!r} came after the request was sent"
    assert transport_error("nền tảng không trả lời", error, creates=True).in_doubt
    assert not transport_error("nền tảng không trả lời", error, creates=False).in_doubt, (
        "a read is never in doubt"
    )


@pytest.mark.parametrize("post", CLIENTS)
def test_a_connection_dropped_after_the_request_is_in_doubt(post: Callable[[str], BaseException]) -> None:
    with server(hang_up) as url:
        error = post(url)
    assert request_sent(error), f"{error!r} came after the request was sent"


@pytest.mark.parametrize("post", CLIENTS)
def test_a_refused_connection_sent_nothing(post: Callable[[str], BaseException], refused_url: str) -> None:
    error = post(refused_url)
    assert not request_sent(error), f"{error!r}: nothing was sent"
    assert not transport_error("không kết nối được", error, creates=True).in_doubt


@pytest.mark.parametrize("post", CLIENTS)
def test_a_connect_timeout_sent_nothing(
    post: Callable[[str], BaseException], unanswered_handshake: str
) -> None:
    error = post(unanswered_handshake)
    if not isinstance(error, TimeoutError | httpx.ConnectTimeout | requests.ConnectTimeout):
        pytest.skip(f"this kernel answered the handshake differently: {error!r}")
    assert not request_sent(error), f"{error!r}: the connection never opened"


def test_only_posts_and_puts_create() -> None:
    assert [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", None) if creates(m)] == ["POST", "PUT"]

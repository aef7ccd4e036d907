"""A pooled connection the server closed while idle costs no attempt (issue #25, point 12).

Every SDK transport of the channels, against a server that drops idle keep-alive connections
without TLS close_notify: call, wait past the server's idle timeout, call again.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests

from loa.channels.transport import RewritingAdapter
from services.sandbox.tls import TlsFiles, write_tls_files
from services.youtube import api
from services.youtube.api import new_http
from services.youtube.settings import YouTubeSettings
from tests.support.idle_tls_server import IdleClosingServer

pytestmark = pytest.mark.integration
IDLE_S = 0.3
Call = Callable[[str, str], int]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return write_tls_files(tmp_path_factory.mktemp("idle-tls"))


@pytest.fixture
def server(tls: TlsFiles) -> Iterator[IdleClosingServer]:
    srv = IdleClosingServer(tls, idle_s=IDLE_S)
    yield srv
    srv.close()


def youtube_transport(tls: TlsFiles, tmp_path: Path) -> Call:
    """google-api-python-client's transport as the YouTube adapter builds it (httplib2)."""
    http = new_http(YouTubeSettings(youtube_ca_certs=tls.ca_pem, youtube_timeout_s=5))

    def call(method: str, url: str) -> int:
        response, _ = http.request(url, method, body=b"{}" if method == "POST" else None)
        return int(response.status)

    return call


def requests_transport(tls: TlsFiles, tmp_path: Path) -> Call:
    """facebook-sdk's and tweepy's: a ``requests`` session with our rewriting transport."""
    session = requests.Session()
    session.mount("https://", RewritingAdapter("https://graph.facebook.com", "https://unused", 5.0))
    return lambda method, url: session.request(method, url, data=b"{}", verify=str(tls.ca_pem)).status_code


def httpx_transport(tls: TlsFiles, tmp_path: Path) -> Call:
    """Zalo's client and Facebook's video chunks: httpx."""
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(tls.ca_pem)), timeout=5)
    return lambda method, url: client.request(method, url, content=b"{}").status_code


@pytest.mark.parametrize("transport", [youtube_transport, requests_transport, httpx_transport])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_connection_closed_while_idle_is_replaced_before_the_request(
    transport: Callable[[TlsFiles, Path], Call], method: str, server: IdleClosingServer, tls, tmp_path
) -> None:
    call = transport(tls, tmp_path)
    assert call(method, f"{server.url}/youtube/v3/videos?part=status&id=Tin-nong") == 200
    time.sleep(IDLE_S * 3)  # the server has dropped the pooled connection meanwhile

    assert call(method, f"{server.url}/youtube/v3/videos?part=status&id=Đà-Nẵng") == 200
    assert len(server.requests) == 2  # each request arrived once: nothing sent twice
    assert server.connections == 2  # the second went on a new connection


def test_closed_just_after_the_check_only_an_idempotent_request_is_sent_again(
    server: IdleClosingServer, tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server closes in the instant between the check and the request (the check sees nothing)."""
    call = youtube_transport(tls, tmp_path)
    monkeypatch.setattr(api, "_peer_closed", lambda sock: False)
    assert call("GET", f"{server.url}/youtube/v3/videos?id=Hà-Nội") == 200
    time.sleep(IDLE_S * 3)
    assert call("GET", f"{server.url}/youtube/v3/videos?id=Huế") == 200  # sent again, once
    time.sleep(IDLE_S * 3)

    with pytest.raises(ssl.SSLEOFError):  # a POST may have been processed: not sent twice
        call("POST", f"{server.url}/youtube/v3/videos?part=snippet")
    assert [line.split()[0] for line in server.requests] == ["GET", "GET"]

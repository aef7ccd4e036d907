"""Readiness probes are bounded and name the cause; outages are classified by who raised them."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import pytest
import urllib3.exceptions
from sqlalchemy.exc import OperationalError

from loa.health import Readiness, http_probe, kafka_probe
from loa.outages import DATABASE, OBJECT_STORE, classify
from loa.settings import LoaSettings
from loa.tls import client_context


async def test_a_broker_that_accepts_but_never_answers_is_not_ready() -> None:
    with socket.socket() as hung:  # listening, never reading: a stopped (SIGSTOP) broker looks like this
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        port = hung.getsockname()[1]
        plain = LoaSettings(kafka_bootstrap=f"127.0.0.1:{port}", kafka_security_protocol="PLAINTEXT")
        readiness = Readiness({"kafka": kafka_probe(plain)}, timeout=1.0)
        started = asyncio.get_running_loop().time()
        report = await readiness.report()
    assert asyncio.get_running_loop().time() - started < 3
    assert report["status"] == "unavailable"
    assert report["dependencies"]["kafka"]["ok"] is False
    assert report["dependencies"]["kafka"]["cause"]


def test_what_minio_and_sqlalchemy_raise_is_their_outage() -> None:
    # what the minio SDK raised during the outage (urllib3 MaxRetryError, from its connection pool)
    refused = urllib3.exceptions.MaxRetryError(None, "/loa-media/sha256/ab", reason=ConnectionRefusedError())  # type: ignore[arg-type]
    assert classify(refused) == OBJECT_STORE
    assert classify(OperationalError("SELECT 1", {}, ConnectionRefusedError())) == DATABASE
    assert classify(ValueError("Tiêu đề không hợp lệ")) is None


def test_a_bare_oserror_is_classified_by_the_library_that_raised_it() -> None:
    import asyncpg.connect_utils as raised_in_asyncpg  # a module of the asyncpg package

    code = compile(
        "raise ConnectionRefusedError(111, 'Connect call failed')", raised_in_asyncpg.__file__, "exec"
    )
    with pytest.raises(ConnectionRefusedError) as inside_asyncpg:
        exec(code, {"__name__": raised_in_asyncpg.__name__})  # a frame that asyncpg's own code would have
    assert classify(inside_asyncpg.value) == DATABASE
    with pytest.raises(ConnectionRefusedError) as ours:
        raise ConnectionRefusedError(111, "refused here")
    assert classify(ours.value) is None  # our own code's OSError is not a dependency outage


async def test_probing_a_service_loads_no_ca_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracker's overview probes every publisher's /readyz at most every 5 s while ops watch
    it; a client with a TLS context of its own loads the CA store each time (22 ms of CPU)."""
    client_context()  # the process's one context, made once
    made: list[object] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    with socket.socket() as closed:  # a port nothing listens on: the probe fails after its client is made
        closed.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{closed.getsockname()[1]}/readyz"
    readiness = Readiness({"webhook": http_probe(url)}, timeout=2.0)
    for _ in range(3):
        report = await readiness.report()
        assert report["dependencies"]["webhook"]["ok"] is False
    assert made == []

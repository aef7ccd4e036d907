"""Liveness and readiness, one implementation for every service.

``/livez`` answers 200 while the process serves HTTP. ``/readyz`` checks each dependency (Kafka,
object store, database, ...) at once, each bounded by ``PROBE_TIMEOUT_SECONDS``, and answers 503
when one is down, naming it with a short cause, beside what the service says of itself (its mode
and, for a publisher, the hosts its platform URLs point at; see ``loa.mode``)::

    {"status": "unavailable", "mode": "development", "targets": {"LOA_X_API_URL": "127.0.0.1:8090"},
     "dependencies": {"kafka": {"ok": false, "cause": "connection refused"},
                      "database": {"ok": true, "cause": null}}}

``/healthz`` is kept as an alias of ``/readyz`` (the supervisor, compose health checks and tests
poll it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from minio import Minio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loa.kafka_security import client_security
from loa.outages import RETRY_AFTER_SECONDS
from loa.settings import LoaSettings
from loa.tls import client_context

PROBE_TIMEOUT_SECONDS = 2.0
Probe = Callable[[], Awaitable[Mapping[str, Any] | None]]
"""Returns when the dependency answers (what another service says of itself, if anything); raises
(anything) when it does not."""
ABOUT = ("mode", "targets")
"""What a service's report says of itself, passed on by ``http_probe`` (the dashboard shows it)."""


def describe(exc: BaseException) -> str:
    """A short cause a person reads: no repr, no URL, no credentials."""
    if isinstance(exc, NotReadyError):
        return str(exc)[:200]
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, KafkaConnectionError):
        return "no broker reachable"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {PROBE_TIMEOUT_SECONDS:g} s"
    if isinstance(exc, TimeoutError):
        return f"no answer within {PROBE_TIMEOUT_SECONDS:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not isinstance(exc, OSError):
        return f"{type(exc).__name__} ({describe(cause)})"[:200]
    return type(exc).__name__


def kafka_probe(settings: LoaSettings) -> Probe:
    """A metadata request to the bootstrap brokers: a broker that is stopped, or listening but hung,
    fails it (a bare TCP connection would pass the second)."""

    async def probe() -> None:
        client = AIOKafkaClient(
            bootstrap_servers=settings.kafka_bootstrap,
            request_timeout_ms=int(PROBE_TIMEOUT_SECONDS * 1000),
            client_id="loa-readiness",
            **client_security(settings),
        )
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return probe


def database_probe(engine: AsyncEngine) -> Probe:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return probe


def object_store_probe(client: Minio, bucket: str) -> Probe:
    """``HEAD`` of the bucket (the client's bounded retries keep it short)."""

    async def probe() -> None:
        await asyncio.to_thread(client.bucket_exists, bucket)

    return probe


def http_probe(url: str) -> Probe:
    """Another service's ``/readyz``: ready on 200; otherwise the dependencies it names as down."""

    async def probe() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS, verify=client_context()) as client:
            response = await client.get(url)
        if response.status_code == 200:
            body = response.json()
            return {k: body[k] for k in ABOUT if k in body} if isinstance(body, dict) else None
        try:
            down = {
                name: report.get("cause")
                for name, report in response.json().get("dependencies", {}).items()
                if not report.get("ok")
            }
        except (ValueError, AttributeError):
            down = {}
        raise NotReadyError("; ".join(f"{n}: {c}" for n, c in down.items()) or f"HTTP {response.status_code}")

    return probe


class NotReadyError(Exception):
    """A service answered that it is not ready; the message says why."""


async def _run(probe: Probe, seconds: float) -> dict[str, Any]:
    try:
        about = await asyncio.wait_for(probe(), seconds)
    except Exception as e:  # any failure means "not ready"; what it was is the cause
        return {"ok": False, "cause": describe(e)}
    return {"ok": True, "cause": None, **({"about": dict(about)} if about else {})}


class Readiness:
    """The dependencies a service needs, probed together; the last report is kept for dashboards."""

    def __init__(
        self,
        probes: Mapping[str, Probe],
        timeout: float = PROBE_TIMEOUT_SECONDS,
        about: Mapping[str, Any] | None = None,
    ) -> None:
        self.probes = dict(probes)
        self.timeout = timeout
        self.about = dict(about or {})
        """What the service says of itself in each report (``ABOUT``: mode, targets)."""
        self.last: dict[str, Any] | None = None

    async def recent(self, max_age: float) -> dict[str, Any]:
        """The last report if younger than ``max_age`` seconds, else a fresh one (for dashboards)."""
        if self.last is not None and time.time() - self.last["checked_at"] < max_age:
            return self.last
        return await self.report()

    async def report(self) -> dict[str, Any]:
        names = list(self.probes)
        results = await asyncio.gather(*(_run(self.probes[n], self.timeout) for n in names))
        dependencies = dict(zip(names, results, strict=True))
        ready = all(r["ok"] for r in results)
        self.last = {
            "status": "ready" if ready else "unavailable",
            **self.about,
            "dependencies": dependencies,
            "checked_at": time.time(),
        }
        return self.last


def health_routes(readiness: Callable[[], Readiness], prefix: str = "/") -> list[Route]:
    """``<prefix>livez``, ``<prefix>readyz`` and the ``<prefix>healthz`` alias, for any Starlette app.

    ``readiness`` is called per request, so an app may build its probes in its lifespan.
    """

    async def livez(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> Response:
        report = await readiness().report()
        ready = report["status"] == "ready"
        return JSONResponse(
            report, 200 if ready else 503, None if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    return [
        Route(f"{prefix}livez", livez, methods=["GET", "HEAD"]),
        Route(f"{prefix}readyz", readyz, methods=["GET", "HEAD"]),
        Route(f"{prefix}healthz", readyz, methods=["GET", "HEAD"]),
    ]

"""``python -m services.sandbox``: serve the emulators on 127.0.0.1:8090 (HTTP) and 8091 (TLS).

The TLS port serves the same app (same state) for SDKs that insist on https (YouTube's
resumable upload); its CA is written to ``LOA_SANDBOX_CA_FILE`` (default ``.loa/sandbox-ca.pem``).
Set ``LOA_SANDBOX_TLS_PORT=`` (empty) to serve HTTP only. Served on uvloop with httptools (both
pinned): a 2 GiB upload through TLS costs the emulator noticeably less CPU than on asyncio/h11
(see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import uvicorn
import uvloop

from loa.mode import DEVELOPMENT
from loa.settings import REPO_ROOT, LoaSettings

HTTP = "httptools"
"""llhttp (C) rather than h11 (pure Python): a video upload streams gigabytes through the parser."""


def _servers() -> list[uvicorn.Server]:
    host = os.environ.get("LOA_SANDBOX_HOST", "127.0.0.1")
    port = int(os.environ.get("LOA_SANDBOX_PORT", "8090"))
    app = "services.sandbox.app:app"
    servers = [uvicorn.Server(uvicorn.Config(app, host=host, port=port, http=HTTP, log_level="warning"))]
    tls_port = os.environ.get("LOA_SANDBOX_TLS_PORT", "8091")
    if tls_port:
        from services.sandbox.tls import write_tls_files

        ca_file = Path(os.environ.get("LOA_SANDBOX_CA_FILE", REPO_ROOT / ".loa" / "sandbox-ca.pem"))
        tls = write_tls_files(ca_file.parent / "sandbox-tls", ca_file=ca_file)
        config = uvicorn.Config(
            app,
            host=host,
            port=int(tls_port),
            ssl_certfile=str(tls.cert_pem),
            ssl_keyfile=str(tls.key_pem),
            http=HTTP,
            log_level="warning",
        )
        servers.append(uvicorn.Server(config))
    return servers


def refuse_production() -> None:
    """The sandbox answers like the platforms (real-looking permalinks): never beside production."""
    if LoaSettings().mode != DEVELOPMENT:
        sys.exit(
            "the sandbox refuses to start: LOA_MODE is production (the default); it emulates the "
            "platforms for development only, set LOA_MODE=development to run it"
        )


async def _serve_all() -> None:
    await asyncio.gather(*(server.serve() for server in _servers()))


if __name__ == "__main__":
    refuse_production()
    # uvicorn picks uvloop only when it creates the loop itself; two servers share this one.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve_all())

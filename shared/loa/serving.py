"""How a Loa service process runs once it has started: what start-up built is frozen out of the
cyclic garbage collector's sight, and the ASGI services (ingest, tracker, listener, archiver) run
under uvicorn through ``serve_asgi``.

CPython's collector walks every object it tracks on each full (generation 2) collection: ~130,000
in a publisher, ~200,000 in the tracker, nearly all of them made at start (modules, classes, the
contract's schemas, SQLAlchemy's tables, the app) and alive until the process ends. A full
collection runs whenever the objects that survived younger collections grow by a quarter of the
old ones, so under load a service kept walking its whole start-up heap again, to find nothing:
``gc.freeze`` moves it to the permanent generation, which no collection walks. Reference counting
frees those objects as before; only a reference cycle among them that became garbage later would
stay (the cyclic garbage of start-up itself is collected first). Measured: issue #20,
docs/benchmarks.md "Session 35".
"""

from __future__ import annotations

import gc
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)


def freeze_startup_heap() -> None:
    """Collect start-up's garbage, then freeze every object left, and log how many."""
    gc.collect()
    gc.freeze()
    log.info("start-up heap frozen: %d objects left out of garbage collection", gc.get_freeze_count())


class _Server(uvicorn.Server):
    """uvicorn's server, which freezes the heap once the app's lifespan has started and it listens."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            freeze_startup_heap()


def serve_asgi(app: Any, *, host: str, port: int, **options: Any) -> None:
    """``uvicorn.run(app, host=..., port=...)`` as a service runs it (one worker, no reload, Loa's
    own logging, no access log), the start-up heap frozen once it serves."""
    server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, **options))
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

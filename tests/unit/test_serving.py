"""``loa.serving.serve_asgi``: an ASGI service's start-up heap is frozen once its app has started.

Each case runs a real uvicorn process (the freeze is process-wide, so not in the test's own).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT
from loa.testing.ports import free_port

pytestmark = pytest.mark.unit

APP = """
import contextlib, gc, sys
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from loa.serving import serve_asgi

seen = {}

@contextlib.asynccontextmanager
async def lifespan(app):
    if sys.argv[2] == "fail":
        raise RuntimeError("the database is not there")
    seen["frozen_during_start"] = gc.get_freeze_count()
    seen["built_at_start"] = [["Đà Nẵng", i] for i in range(50_000)]  # lists: always tracked
    yield

async def heap(request):
    last = seen["built_at_start"][-1]
    return JSONResponse({
        "frozen_during_start": seen["frozen_during_start"],
        "frozen": gc.get_freeze_count(),
        "collected_by_gc": len(gc.get_objects()),
        "built_at_start_is_frozen": gc.is_tracked(last) and not any(o is last for o in gc.get_objects()),
    })

serve_asgi(Starlette(routes=[Route("/", heap)], lifespan=lifespan), host="127.0.0.1", port=int(sys.argv[1]))
"""


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": CHECKOUT_PYTHONPATH}
    return subprocess.Popen(
        [sys.executable, "-c", APP, *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_what_start_up_built_is_frozen_once_the_app_serves() -> None:
    port = free_port()
    proc = _start(str(port), "ok")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                heap = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert heap["frozen_during_start"] == 0  # not before the lifespan ran: what it builds is included
    assert heap["built_at_start_is_frozen"]
    # the 50,000 lists of start-up and the modules' objects are out of the collector's walk; what
    # it still tracks is what serving the request made
    assert heap["frozen"] > 50_000
    assert heap["collected_by_gc"] < heap["frozen"] / 10


def test_an_app_that_fails_to_start_exits_as_uvicorn_does() -> None:
    proc = _start(str(free_port()), "fail")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err.decode()  # uvicorn's STARTUP_FAILURE: the supervisor sees it
    assert b"the database is not there" in err

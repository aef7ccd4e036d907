"""httpx's cost per request against the connections its pool holds (issue #20; docs/benchmarks.md,
"Connections per account"):

    PYTHONPATH=shared:. python -m bench.http_pool [--requests 3000]

A trivial ASGI receiver (uvicorn, in a process of its own so its CPU is not counted) answers every
POST with a small JSON body. For each pool size N, one ``httpx.AsyncClient`` (uvloop, as the
publishers run it) first opens N connections (N requests at once), then sends ``--requests`` POSTs
of 1.4 kB in rounds of 3 at once (a publisher's batch at 30 contents/s); printed is the client
process's CPU per request over those rounds. httpcore polls each idle connection's socket on every
pass over its pool (``loa.channels.clients``), so the cost grows with N. Then what making a client
costs: with a TLS context of its own (httpx's default) and with the process's shared one
(``loa.tls``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from loa.testing.ports import free_port

CLIENTS = 60
RESULTS = Path(__file__).resolve().parent / "results" / "http_pool.json"
POOL_SIZES = (1, 3, 10, 20)
ROUND = 3
BODY = b"x" * 1400
RECEIVER = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"id": "1", "url": "https://x"}'})
"""


async def cost_per_request(url: str, pool: int, requests: int) -> tuple[float, int]:
    """CPU ms per request with ``pool`` connections open, and the connections left at the end."""
    async with httpx.AsyncClient() as client:
        await asyncio.gather(*[client.post(url, content=BODY) for _ in range(pool)])
        started = time.process_time()
        for _ in range(requests // ROUND):
            await asyncio.gather(*[client.post(url, content=BODY) for _ in range(ROUND)])
        used = time.process_time() - started
        held = len(client._transport._pool.connections)  # type: ignore[attr-defined]
    return 1000 * used / (requests // ROUND * ROUND), held


def cost_of_a_client(shared: bool) -> tuple[float, float]:
    """CPU ms and resident MB per ``httpx.AsyncClient`` made (``CLIENTS`` of them, kept)."""
    from loa.tls import client_context

    options = {"verify": client_context()} if shared else {}  # made once, before the count
    rss, started = psutil.Process().memory_info().rss, time.process_time()
    clients = [httpx.AsyncClient(**options) for _ in range(CLIENTS)]
    used, grown = time.process_time() - started, psutil.Process().memory_info().rss - rss
    del clients
    return 1000 * used / CLIENTS, grown / 2**20 / CLIENTS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    import uvloop

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "receiver.py").write_text(RECEIVER)
        argv = [sys.executable, "-m", "uvicorn", "receiver:app", "--port", str(port)]
        server = subprocess.Popen([*argv, "--log-level", "warning", "--no-access-log"], cwd=tmp)
        try:
            url = f"http://127.0.0.1:{port}/"
            for _ in range(100):
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            figures = {}
            for pool in POOL_SIZES:
                ms, held = uvloop.run(cost_per_request(url, pool, args.requests))
                figures[f"http_pool_{pool}_connections"] = {"cpu_ms_per_request": ms, "held": held}
        finally:
            server.terminate()
            server.wait(10)
    made = {f"http_client_{kind}_tls": cost_of_a_client(kind == "shared") for kind in ("own", "shared")}
    RESULTS.parent.mkdir(exist_ok=True)  # ignored by git: a fresh clone has none
    RESULTS.write_text(json.dumps({**figures, **made}, indent=2) + "\n")
    print(json.dumps({**figures, **made}))
    for name, f in figures.items():
        print(f"{name}: {f['cpu_ms_per_request']:.3f} ms CPU per request ({f['held']} held)")
    for name, (ms, mb) in made.items():
        print(f"{name}: {ms:.3f} ms CPU per client made ({mb:.3f} MB resident)")


if __name__ == "__main__":
    main()

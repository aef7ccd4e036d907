"""Ports for processes a test or a bench starts later: ``free_port``."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
PORTS_BELOW_EPHEMERAL = 12_000
"""How many ports under the kernel's ephemeral range ``free_port`` picks from."""

_handed_out: set[int] = set()
"""Ports ``free_port`` already gave this process: nothing listens on them yet, but they are taken."""


def free_port() -> int:
    """A port nothing listens on, for a service started later, below the kernel's ephemeral range.

    Not the kernel's pick (``bind`` to port 0): that comes from the range every outgoing connection
    takes its own local port from, so between the pick and the service's ``bind`` a client socket of
    this machine (Kafka, PostgreSQL, HTTP) may hold it — a chaos run's publisher replica then failed
    to start, twice, with "address already in use" on its health port (fresh-clone CI, session 26).
    Below ``ip_local_port_range`` no outgoing connection is ever given the port.

    Never the same port twice in one process: a caller that picks every port before starting any
    service would otherwise find nothing bound on a port it already holds (a bench gave Zalo's and
    TikTok's publishers one health port, and Zalo's never started; session 41).
    """
    low = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32768
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(1024, low - PORTS_BELOW_EPHEMERAL), low)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # something listens there (or is bound): try another
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port below {low} after 200 tries")

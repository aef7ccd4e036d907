"""Ports for processes a test or a bench starts later: ``free_port``."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
PORTS_BELOW_EPHEMERAL = 12_000
"""How many ports under the kernel's ephemeral range ``free_port`` picks from."""


def free_port() -> int:
    """A port nothing listens on, for a service started later, below the kernel's ephemeral range.

    Not the kernel's pick (``bind`` to port 0): that comes from the range every outgoing connection
    takes its own local port from, so between the pick and the service's ``bind`` a client socket of
    this machine (Kafka, PostgreSQL, HTTP) may hold it — a chaos run's publisher replica then failed
    to start, twice, with "address already in use" on its health port (fresh-clone CI, session 26).
    Below ``ip_local_port_range`` no outgoing connection is ever given the port.
    """
    low = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32768
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(1024, low - PORTS_BELOW_EPHEMERAL), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # something listens there (or is bound): try another
            return port
    raise RuntimeError(f"no free port below {low} after 200 tries")

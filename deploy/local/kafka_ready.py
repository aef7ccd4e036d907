"""Ask a Kafka broker for its metadata (Metadata v4, stdlib only); exit 0 when it answers.

Used by ``kafka.sh`` to wait until the broker really serves requests, before the venv exists.
Usage: ``python3 kafka_ready.py 127.0.0.1:9092``
"""

from __future__ import annotations

import socket
import struct
import sys

METADATA = 3
VERSION = 4  # Kafka 4 removed Metadata v0-v3 (KIP-896); v4 is the oldest it serves, non-flexible


def _request(correlation_id: int) -> bytes:
    client_id = b"loa-ready"
    header = struct.pack(">hhih", METADATA, VERSION, correlation_id, len(client_id)) + client_id
    body = struct.pack(">i?", 0, False)  # no topics, no auto-creation
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def broker_count(host: str, port: int) -> int:
    """The number of brokers the cluster reports."""
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(_request(7))
        (size,) = struct.unpack(">i", _read_exact(sock, 4))
        reply = _read_exact(sock, size)
    correlation_id, _throttle, brokers = struct.unpack(">iii", reply[:12])
    if correlation_id != 7:
        raise ValueError("unexpected correlation id")
    return int(brokers)


def main() -> int:
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092").rpartition(":")
    try:
        return 0 if broker_count(host, int(port)) >= 1 else 1
    except (OSError, ValueError, struct.error):
        return 1


if __name__ == "__main__":
    sys.exit(main())

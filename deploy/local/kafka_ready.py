"""Ask a Kafka broker whether it serves requests (stdlib only); exit 0 when it answers.

Plain listener: a Metadata v4 request, answered once the broker is registered. With a CA file (the
SASL_SSL listener): a TLS handshake that verifies the broker against the CA, then ApiVersions v0,
the one request a broker answers before SASL authentication (KIP-43, KIP-35); kafka_principals.py
then signs in as the admin and waits for the metadata.
Usage: ``python3 kafka_ready.py 127.0.0.1:9092 [ca.pem]``
"""

from __future__ import annotations

import socket
import ssl
import struct
import sys

METADATA = 3
VERSION = 4  # Kafka 4 removed Metadata v0-v3 (KIP-896); v4 is the oldest it serves, non-flexible
API_VERSIONS = 18


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


def api_versions_ok(host: str, port: int, cafile: str) -> bool:
    """Whether the broker behind TLS (verified against ``cafile``) answers ApiVersions v0 without error."""
    context = ssl.create_default_context(cafile=cafile)
    client_id = b"loa-ready"
    header = struct.pack(">hhih", API_VERSIONS, 0, 9, len(client_id)) + client_id
    with (
        socket.create_connection((host, port), timeout=3) as raw,
        context.wrap_socket(raw, server_hostname=host) as sock,
    ):
        sock.sendall(struct.pack(">i", len(header)) + header)
        (size,) = struct.unpack(">i", _read_exact(sock, 4))
        reply = _read_exact(sock, size)
    correlation_id, error_code = struct.unpack(">ih", reply[:6])
    return bool(correlation_id == 9 and error_code == 0)


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
        if len(sys.argv) > 2:
            return 0 if api_versions_ok(host, int(port), sys.argv[2]) else 1
        return 0 if broker_count(host, int(port)) >= 1 else 1
    except (OSError, ValueError, struct.error):
        return 1


if __name__ == "__main__":
    sys.exit(main())

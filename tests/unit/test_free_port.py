"""Processes a bench or a test starts get ports no outgoing connection can take before they bind
(the chaos run's replica that found its health port held by a client socket): below the kernel's
ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``, where ``connect`` picks local ports)."""

from __future__ import annotations

import socket

import pytest

from loa.testing.ports import EPHEMERAL_RANGE, free_port

pytestmark = pytest.mark.unit


def test_a_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    low = int(EPHEMERAL_RANGE.read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= port < low for port in ports), sorted(ports)
    assert len(ports) > 40  # picked at random, not one port for every service
    for port in list(ports)[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_something_listens_on_is_never_given() -> None:
    listeners = []
    try:
        for _ in range(20):
            sock = socket.socket()
            sock.bind(("127.0.0.1", free_port()))
            sock.listen()
            listeners.append(sock)
        taken = {s.getsockname()[1] for s in listeners}
        assert not taken & {free_port() for _ in range(200)}
    finally:
        for sock in listeners:
            sock.close()

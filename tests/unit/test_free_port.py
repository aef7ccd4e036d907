"""Processes a bench or a test starts get ports no outgoing connection can take before they bind
(the chaos run's replica that found its health port held by a client socket): below the kernel's
ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``, where ``connect`` picks local ports)."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator

import pytest

from loa.testing import ports
from loa.testing.ports import EPHEMERAL_RANGE, free_port

pytestmark = pytest.mark.unit


def test_a_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    low = int(EPHEMERAL_RANGE.read_text().split()[0])
    given = {free_port() for _ in range(50)}
    assert all(1024 <= port < low for port in given), sorted(given)
    assert len(given) == 50  # one port for each service, never one given twice
    for port in list(given)[:5]:
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


def test_a_port_already_given_is_not_given_again_before_anything_binds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bench picks every service's ports first and starts them after: nothing listens on a port it
    holds yet, so binding alone cannot tell it is taken (two publishers got one health port; s41)."""
    first, second = free_port(), free_port()

    class Repeating:
        """The random pick lands on ``first`` again before it reaches ``second``."""

        def __init__(self) -> None:
            self.picks: Iterator[int] = iter([first, first, first, second])

        def randrange(self, start: int, stop: int) -> int:
            return next(self.picks)

    monkeypatch.setattr(random, "SystemRandom", Repeating)
    monkeypatch.setattr(ports, "_handed_out", {first})  # ``second`` is free to hand out again
    assert free_port() == second

"""``loa.channels.clients.ClientPerAccount``: each account's requests keep their own connections, so
a burst on one account does not leave connections every other account's requests must look over
(httpcore polls each idle connection of its pool on every request)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from loa.channels import Account, Secret
from loa.channels.clients import ClientPerAccount

pytestmark = pytest.mark.unit  # the sandbox runs in-process

BURST = 8


def account(name: str) -> Account:
    return Account("webhook", name, {"secret": Secret("bí-mật")}, {})


def held(client: httpx.AsyncClient) -> int:
    return len(client._transport._pool.connections)  # type: ignore[attr-defined]


def tls(client: httpx.AsyncClient) -> object:
    return client._transport._pool._ssl_context  # type: ignore[attr-defined]


async def test_a_burst_on_one_account_leaves_the_others_connections_as_they_were(sandbox_url: str) -> None:
    clients = ClientPerAccount(timeout=5)
    ha_noi, da_nang = account("sở-tttt-hà-nội"), account("sở-tttt-đà-nẵng")
    url = f"{sandbox_url}/_sandbox/clock"
    try:
        answers = await asyncio.gather(*[clients(ha_noi).get(url) for _ in range(BURST)])
        assert [a.status_code for a in answers] == [200] * BURST
        assert (await clients(da_nang).get(url)).status_code == 200

        assert clients(ha_noi) is clients(ha_noi)
        assert held(clients(ha_noi)) == BURST
        assert held(clients(da_nang)) == 1
        # one CA store for all: a context of its own costs each client 22 ms of CPU and 0.85 MB
        assert tls(clients(ha_noi)) is tls(clients(da_nang))
    finally:
        every = [clients(ha_noi), clients(da_nang)]
        await clients.aclose()
    assert all(c.is_closed for c in every)

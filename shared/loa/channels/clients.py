"""One httpx client per account, for the adapters that call their platform over httpx.

httpcore's connection pool looks at every connection it holds whenever a request starts or ends:
it asks each idle one's socket whether the server has closed it, one ``poll`` a connection
(``AsyncConnectionPool._assign_requests_to_connections`` → ``has_expired`` →
``is_socket_readable``, httpcore 1.0.9; the cost is upstream's open encode/httpcore#928). One
client for every account keeps the connections of all of them in one list, as many as the whole
channel ever had in flight at once, and every request pays for all of them: a publisher's pool
grew to 20 connections, the most httpx keeps (``max_keepalive_connections``), and a request cost
1.14 ms of the client's CPU instead of 0.61 with 3 (``bench/http_pool.py``).

A client per account holds only that account's connections, as many as its own requests in
flight, which its rate limit bounds. It also keeps accounts apart: the connections of a receiver
that stalls are its own, not taken from the others'. The clients share the process's TLS
context (``loa.tls``): each made its own would load the CA store again, 22 ms of CPU and 0.85 MB a
client (a Zalo publisher serves an OA per province).
"""

from __future__ import annotations

from typing import Any

import httpx

from loa.channels.base import Account
from loa.tls import client_context


class ClientPerAccount:
    """``clients(account)``: the account's ``httpx.AsyncClient(**options)``, made on its first call."""

    def __init__(self, **options: Any) -> None:
        self._options = {"verify": client_context(), **options}
        self._clients: dict[str, httpx.AsyncClient] = {}

    def __call__(self, account: Account) -> httpx.AsyncClient:
        client = self._clients.get(account.name)
        if client is None:
            client = self._clients[account.name] = httpx.AsyncClient(**self._options)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

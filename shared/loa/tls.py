"""The TLS context every httpx client of a process shares.

httpx makes a context for each client it builds unless given one, loading the CA store again:
22 ms of CPU and 0.85 MB a client on this machine (``bench/http_pool.py``). A client made per call
(a readiness probe, a relayed request, a token refresh) paid that on every call; clients made
per account paid it per account. One context per process, made as httpx makes its own
(``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` if set, else certifi's store), serves them all: an
``ssl.SSLContext`` may wrap many sockets at once, from any thread.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    """Pass as ``verify=`` to every ``httpx.Client`` / ``AsyncClient`` that verifies as httpx would."""
    return httpx.create_ssl_context()

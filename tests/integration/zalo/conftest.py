"""Zalo runtime tests run against the real sandbox app served in a thread of the test process."""

from tests.sandbox_fixtures import sandbox, sandbox_server, sandbox_url

__all__ = ["sandbox", "sandbox_server", "sandbox_url"]

"""Channel tests run against the real sandbox app (see ``tests/sandbox_fixtures.py``)."""

from tests.sandbox_fixtures import sandbox, sandbox_server, sandbox_url

__all__ = ["sandbox", "sandbox_server", "sandbox_url"]

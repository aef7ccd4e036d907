"""Channel tests run against the real sandbox app (see ``tests/sandbox_fixtures.py``)."""

import pytest

from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing.context import FakeContext
from tests.sandbox_fixtures import sandbox, sandbox_server, sandbox_url

__all__ = ["sandbox", "sandbox_server", "sandbox_url"]


@pytest.fixture
def context(settings: LoaSettings) -> FakeContext:
    """The runtime's context for an adapter under test, with this test's own MinIO bucket."""
    store = MediaStore(settings)
    store.ensure_buckets()
    return FakeContext(store)

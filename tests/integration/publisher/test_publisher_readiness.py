"""A publisher's readiness names the dependency that is down (Kafka, object store); liveness stays 200."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from loa.publisher.settings import PublisherSettings
from loa.testing.private_stack import PrivateStack
from tests.integration.publisher.conftest import StartPublisher

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    """One private Kafka and MinIO for the module's runs (SQLite, PostgreSQL): a start is the slow
    part of this test; after each run, what it stopped is started again (``up`` is a no-op on what runs)."""
    with PrivateStack.started(tmp_path_factory.mktemp("readiness"), "kafka", "minio") as ps:
        yield ps


@pytest.fixture
def ps(private_stack: PrivateStack) -> Iterator[PrivateStack]:
    yield private_stack
    for component in ("kafka", "minio"):
        if not private_stack.running(component):
            private_stack.start(component)


async def test_readiness_names_the_dependency_that_is_down(
    start_publisher: StartPublisher, pub_settings: PublisherSettings, ps: PrivateStack
) -> None:
    pub = await start_publisher(settings=ps.settings(pub_settings))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pub.port}", timeout=10) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["dependencies"]) == {"kafka", "database", "object_store", "dispatcher"}

        ps.stop("minio")
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["dependencies"]["object_store"]["ok"] is False
        assert ready.json()["dependencies"]["kafka"]["ok"] is True
        ps.start("minio")

        ps.stop("kafka")
        ready = await client.get("/healthz")
        assert ready.status_code == 503
        assert ready.json()["dependencies"]["kafka"] == {"ok": False, "cause": "no broker reachable"}
        assert ready.json()["dependencies"]["object_store"]["ok"] is True
        assert (await client.get("/livez")).status_code == 200
        ps.start("kafka")
        await pub.stop()

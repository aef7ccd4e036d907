"""schemathesis against the published OpenAPI schema: no server errors, a few examples per operation."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis.checks import not_a_server_error

from loa.events import DeliveryState, topics
from loa.settings import LoaSettings
from services.tracker.app import create_app
from tests.integration.tracker.support import (
    approved,
    auth,
    create_topics,
    producer,
    send,
    status,
    tracker_settings,
)

pytestmark = pytest.mark.integration
STREAMS = ("/api/v1/events", "/api/v1/contents/{content_id}/events")


async def _seed(settings: LoaSettings) -> None:
    await create_topics(settings)
    async with producer(settings) as p:
        await send(p, settings, topics.CONTENT, [approved("tin-1")])
        await send(
            p,
            settings,
            topics.DELIVERY,
            [status("tin-1", "facebook", "so-ttt-da-nang", DeliveryState.FAILED, 1)],
        )


@pytest.fixture
def base_url(settings: LoaSettings, sqlite_url: str) -> Iterator[str]:
    asyncio.run(_seed(settings))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(tracker_settings(settings, sqlite_url)), host="127.0.0.1", port=0, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "tracker did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(10)


def _explore(operation: Any, base_url: str, role: str) -> None:
    @given(case=operation.as_strategy())
    @hsettings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=auth(role), checks=[not_a_server_error], timeout=10)

    check()


def test_no_server_errors_on_any_operation(base_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    tested = 0
    for operation in operations:
        if operation.path in STREAMS:
            continue
        for role in ("operator", "viewer"):
            _explore(operation, base_url, role)
        tested += 1
    assert tested >= 8  # every operation but the two live streams

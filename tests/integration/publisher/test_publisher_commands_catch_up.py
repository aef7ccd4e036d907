"""A publisher starting beside a replica: it catches up on commands before dispatching, unless the
commands group gave it no partition (its replica applies the holds to the store they share)."""

from __future__ import annotations

import time

import pytest

from loa.consumer_lag import assigned_nothing
from loa.publisher.main import COMMANDS_CATCH_UP_SECONDS
from loa.publisher.settings import PublisherSettings
from tests.integration.publisher.conftest import StartPublisher

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # replicas share PostgreSQL
async def test_a_replica_the_commands_group_gave_no_partition_dispatches_at_once(
    start_publisher: StartPublisher, pub_settings: PublisherSettings
) -> None:
    # The commands topic has one partition here (conftest.create_topics): one of two replicas gets none.
    first = await start_publisher()
    began = time.monotonic()
    beside = pub_settings.model_copy(update={"publisher_replica_id": "test-b"})
    second = await start_publisher(settings=beside)
    took = time.monotonic() - began
    idle = [p for p in (first, second) if assigned_nothing(p._commands_subscriber.consumer)]
    assert len(idle) == 1, "the group gave its one partition to one replica"
    assert took < COMMANDS_CATCH_UP_SECONDS / 2, f"the second replica took {took:.1f} s to start"

    began = time.monotonic()
    await idle[0]._commands_caught_up()
    assert time.monotonic() - began < 1.0, "nothing to catch up without a partition: no wait"

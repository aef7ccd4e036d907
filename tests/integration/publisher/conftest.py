"""Fixtures of the runtime's integration tests: real Kafka and the job store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import NewTopic
from cryptography.fernet import Fernet
from publisher_fake import FakeAdapter, FakePlatform
from publisher_helpers import Watcher

from loa.channels import ChannelAdapter
from loa.events import topics
from loa.publisher.main import Publisher
from loa.publisher.settings import PublisherSettings
from loa.settings import LoaSettings
from tests.support.kafka import FETCH_WAIT_MS

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(tmp_path: Path) -> FakePlatform:
    return FakePlatform(tmp_path / "platform.db")


def publisher_settings(settings: LoaSettings, db_url: str, **overrides: Any) -> PublisherSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap": settings.kafka_bootstrap,
        "topic_prefix": settings.topic_prefix,
        "publisher_database_url": db_url,
        "credentials_key": Fernet.generate_key().decode(),
        "publisher_port": 0,
        "publisher_poll_seconds": 0.05,
        # the lingers trade up to 100 ms per content and per status for fewer rounds under load; a
        # test waits on each state in turn (test_intake_linger.py sets its own; bench/webhook_alone.py)
        "publisher_intake_linger_ms": 0,
        "publisher_relay_linger_ms": 0,
        "publisher_fetch_wait_ms": FETCH_WAIT_MS,
        "publisher_backoff_base_seconds": 0.05,
        "publisher_backoff_cap_seconds": 0.5,
        "publisher_shutdown_grace_seconds": 5,
        "publisher_replica_id": "test-a",
    }
    values.update(overrides)
    return PublisherSettings(**values)


@pytest.fixture
async def pub_settings(settings: LoaSettings, db_url: str, kafka_admin: Any) -> PublisherSettings:
    ps = publisher_settings(settings, db_url)
    await create_topics(kafka_admin, ps)
    return ps


async def create_topics(kafka_admin: Any, ps: PublisherSettings) -> None:
    """The topics a publisher of ``ps`` reads and writes, under its test's prefix."""
    await kafka_admin.create_topics(
        [NewTopic(ps.topic(topics.CONTENT), num_partitions=3, replication_factor=1)]
        + [
            NewTopic(ps.topic(t), num_partitions=1, replication_factor=1)
            for t in (
                topics.DELIVERY,
                topics.PAYLOAD,
                topics.COMMANDS,
                topics.dlq(topics.CONTENT),
                topics.dlq(topics.COMMANDS),
            )
        ]
    )


StartPublisher = Callable[..., Awaitable[Publisher]]


@pytest.fixture
async def start_publisher(
    pub_settings: PublisherSettings, platform: FakePlatform
) -> AsyncIterator[StartPublisher]:
    """Start a publisher of the fake channel with the account ``chinh``; all are stopped at the end."""
    started: list[Publisher] = []

    async def start(
        adapter: type[ChannelAdapter] = FakeAdapter,
        settings: PublisherSettings | None = None,
        token: str = "ok",
    ) -> Publisher:
        pub = Publisher(adapter, settings or pub_settings)
        from loa.publisher.store.db import migrate

        await migrate(pub.engine)
        if await pub.accounts.get("chinh") is None:
            await pub.accounts.add("chinh", {"token": token}, {"platform": platform.path})
        await pub.start()
        started.append(pub)
        return pub

    yield start
    for pub in started:
        await pub.stop()


@pytest.fixture
async def watcher(pub_settings: PublisherSettings) -> AsyncIterator[Watcher]:
    w = await Watcher(pub_settings).start()
    yield w
    await w.stop()

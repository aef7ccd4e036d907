"""Bad events on Kafka: one dead letter each (the tracker's groups own them, not one per consumer
group, for contents and commands alike), a key that is not the content id is refused, a target on
a channel no publisher runs is failed in the tracker instead of ``received`` forever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from publisher_fake import FakeAdapter, FakePlatform
from publisher_helpers import CHANNEL, Watcher, approved, content, did, send_content

from loa.events import DeliveryState as S
from loa.events import Target, topics
from loa.publisher.settings import PublisherSettings
from tests.integration.publisher.conftest import StartPublisher
from tests.integration.tracker.support import auth, eventually, producer, running_tracker, tracker_settings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration


class SecondChannel(FakeAdapter):  # type: ignore[misc]  # publisher_fake is not on mypy's path
    """Another channel's publisher: one more consumer group on the content and command topics."""

    name = "kenhhai"


async def test_each_bad_message_is_dead_lettered_once_with_its_reason(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    platform: FakePlatform,
    watcher: Watcher,
    tmp_path: Path,
) -> None:
    ts = tracker_settings(
        pub_settings, f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}", channels=f"{CHANNEL},website"
    )
    invalid = approved(content("tb-thieu-tieu-de")).model_dump(mode="json")
    del invalid["payload"]["title"]
    other_key = approved(content("tb-khoa-khac"))
    unknown = content("tb-kenh-la")
    unknown.targets.append(Target(channel="tiktok", account="bo-tt"))
    good = content("tb-dung")

    async with running_tracker(ts) as (_, client):
        await start_publisher()
        second = {"publisher_database_url": f"sqlite+aiosqlite:///{tmp_path / 'kenhhai.db'}"}
        await start_publisher(SecondChannel, pub_settings.model_copy(update=second))
        async with producer(pub_settings) as p:
            bad_command = b'{"type": "delivery.retry", "payload": {"channel": "fakechan"}}'
            await p.send_and_wait(pub_settings.topic(topics.COMMANDS), bad_command, key=b"tb-dung")
            topic = pub_settings.topic(topics.CONTENT)
            await p.send_and_wait(
                topic, json.dumps(invalid, ensure_ascii=False).encode(), key=b"tb-thieu-tieu-de"
            )
            await p.send_and_wait(topic, other_key.model_dump_json().encode(), key=b"tb-dung")
        await send_content(pub_settings, approved(unknown), approved(good))
        await watcher.until_state(did(good.id), S.PUBLISHED)
        await watcher.until_state(did(unknown.id), S.PUBLISHED)  # its known target still goes

        async def unknown_target_failed() -> bool:
            r = await client.get(f"/api/v1/contents/{unknown.id}", headers=auth("viewer"))
            states = {
                d["channel"]: (d["state"], (d["last_error"] or {}).get("code"))
                for d in r.json().get("deliveries", [])
            }
            return states.get("tiktok") == ("failed", "unknown_channel")

        await eventually(unknown_target_failed, what="the tiktok target to show as failed")
        wrongly_keyed = await client.get(f"/api/v1/contents/{other_key.payload.id}", headers=auth("viewer"))
        assert wrongly_keyed.status_code == 404  # refused by the tracker too, not recorded
        # Read while the tracker runs: its commands group fetches quietly (a second's sleep after an
        # empty fetch), so the bad command, sent first, may be dead-lettered after the contents.
        commands_dlq = pub_settings.topic(topics.dlq(topics.COMMANDS))
        dead_commands = await read_topic(pub_settings.kafka_bootstrap, commands_dlq, 1)

    dead = await read_topic(pub_settings.kafka_bootstrap, pub_settings.topic(topics.dlq(topics.CONTENT)), 3)
    by_error = {r.headers["loa-dlq-error"]: r for r in dead}
    assert len(dead) == 3, [(r.key, r.headers["loa-dlq-error"]) for r in dead]  # not one per group
    assert set(by_error) == {"invalid", "key_mismatch", "unknown_channel"}
    assert "title: Field required" in by_error["invalid"].headers["loa-dlq-reason"]
    assert (
        "'tb-dung' is not the content id 'tb-khoa-khac'" in by_error["key_mismatch"].headers["loa-dlq-reason"]
    )
    assert (
        "payload.targets.2.channel: no publisher runs channel 'tiktok'"
        in by_error["unknown_channel"].headers["loa-dlq-reason"]
    )
    for record in dead:
        assert record.headers["loa-dlq-topic"] == pub_settings.topic(topics.CONTENT)
        assert record.headers["loa-dlq-offset"].isdigit()
    assert {post[2] for post in platform.posts()} == {good.id, unknown.id}  # never the wrongly keyed one
    (dead_command,) = dead_commands
    assert dead_command.value == bad_command
    assert "payload.content_id: Field required" in dead_command.headers["loa-dlq-reason"]

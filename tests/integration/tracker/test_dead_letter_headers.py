"""The one dead-letter path: whatever topic a refused record came from, the tracker (the owner of
every Loa topic's dead letters) forwards it as it came with the same five headers, naming where
it was read. Operators replay dead letters by these headers, whichever topic they come from."""

from __future__ import annotations

import asyncio

import pytest

from loa.events import topics
from loa.settings import LoaSettings
from tests.integration.tracker.support import create_topics, producer, running_tracker, tracker_settings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

BAD = {
    topics.DELIVERY: b'{"type": "delivery.status", "payload": {"channel": "zalo"}}',
    topics.CONTENT: b'{"type": "content.approved", "payload": {"id": "tb-thieu-truong"}}',
    topics.COMMANDS: b'{"type": "delivery.retry", "payload": {"channel": "x"}}',
    topics.AUDIT: '{"type": "audit.recorded", "payload": {"actor": "Lê Văn Tám"}}'.encode(),
}
"""One record each topic refuses (fields missing), all four read by the tracker's groups."""


async def test_a_refused_record_is_dead_lettered_with_the_same_headers_from_every_topic(
    settings: LoaSettings, sqlite_url: str
) -> None:
    await create_topics(settings)
    async with producer(settings) as p:
        sent = {
            topic: await p.send_and_wait(settings.topic(topic), value, key=b"tb-thieu-truong")
            for topic, value in BAD.items()
        }
    async with running_tracker(tracker_settings(settings, sqlite_url)):
        letters = await asyncio.gather(
            *(read_topic(settings.kafka_bootstrap, settings.topic(topics.dlq(t)), 1) for t in BAD)
        )

    for topic, dead in zip(BAD, letters, strict=True):
        [letter] = dead
        assert (letter.key, letter.value) == (b"tb-thieu-truong", BAD[topic])  # forwarded as it came
        ours = {name: value for name, value in letter.headers.items() if name.startswith("loa-dlq-")}
        reason = ours.pop("loa-dlq-reason")
        assert "Field required" in reason, (topic, reason)
        assert ours == {
            "loa-dlq-error": "invalid",
            "loa-dlq-topic": settings.topic(topic),
            "loa-dlq-partition": str(sent[topic].partition),
            "loa-dlq-offset": str(sent[topic].offset),
        }, topic

"""Direct Kafka producers: the bad-input table's invalid payloads, produced straight onto the
content topic, land in the DLQ with a reason, and a valid message after them is still processed."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from faststream.kafka import KafkaMessage

from loa.events import ContentApproved, ContentEvent, topics
from loa.events.parsing import parse_content_record
from loa.kafka import make_broker, parse_records, records_of, settle_refusals
from loa.settings import LoaSettings
from tests.integration.ingest.test_ingest_bad_input import CASES
from tests.support.kafka import read_topic
from tests.support.payloads import valid_payload

pytestmark = pytest.mark.integration

KAFKA_CASES = [c for c in CASES if c.on_kafka and not callable(c.body)]


def as_event(body: bytes) -> bytes:
    """The case's submission as an envelope a content system could produce; non-objects stay as they are."""
    value = json.loads(body)
    if not isinstance(value, dict) or "payload" not in value:
        return body
    return json.dumps({"type": "content.approved", "payload": value["payload"]}, ensure_ascii=False).encode()


async def test_invalid_messages_go_to_the_dlq_and_the_consumer_goes_on(settings: LoaSettings) -> None:
    assert len(KAFKA_CASES) >= 25
    topic = settings.topic(topics.CONTENT)
    bad = [as_event(c.body) for c in KAFKA_CASES if isinstance(c.body, bytes)]  # type: ignore[arg-type]
    bad += [
        b"\xff\xfe not utf-8",
        b'{"type": "content.approved", "payload": ',
        b"",
        b'{"type": "content.exploded"}',
    ]
    valid = ContentApproved(payload=valid_payload("sau-cung", 1))  # type: ignore[arg-type]
    broker = make_broker(settings)
    handled: list[ContentEvent] = []
    seen: list[bytes] = []
    done = asyncio.Event()

    @broker.subscriber(topic, group_id=f"test-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest")
    async def on_content(msg: KafkaMessage) -> None:
        events, refused = parse_records(records_of(msg), parse_content_record)
        handled.extend(events)
        await settle_refusals(broker, refused, owner=True)
        seen.append(msg.body)
        if len(seen) == len(bad) + 1:  # partitions run independently: wait for every message
            done.set()

    async with broker:
        for i, raw in enumerate(bad):
            await broker.publish(raw, topic=topic, key=f"bad-{i}".encode())
        await broker.publish(valid.model_dump_json().encode(), topic=topic, key=b"sau-cung")
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=60)

    assert [e.payload.id for e in handled] == ["sau-cung"]
    dead = await read_topic(settings.kafka_bootstrap, topics.dlq(topic), len(bad))
    assert len(dead) == len(bad)
    assert sorted(r.key or b"" for r in dead) == sorted(f"bad-{i}".encode() for i in range(len(bad)))
    by_key: dict[bytes | None, Any] = {r.key: r for r in dead}
    for i, case in enumerate(KAFKA_CASES):
        record = by_key[f"bad-{i}".encode()]
        assert record.value == bad[i]  # forwarded as it came
        assert record.headers["loa-dlq-topic"] == topic
        reason = record.headers["loa-dlq-reason"]
        if case.field and case.field.startswith("payload") and bad[i] != case.body:
            assert f"content.approved.{case.field}" in reason, (case.name, reason)
    unparseable = by_key[f"bad-{len(KAFKA_CASES)}".encode()]
    assert unparseable.headers["loa-dlq-error"] == "unparseable"
    assert by_key[b"bad-0"].headers["loa-dlq-error"] in {"invalid", "unparseable"}

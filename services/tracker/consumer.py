"""The Kafka side: batches of status and content events → SQL, offsets committed after the write.

Both subscribers are batch subscribers with ``NACK_ON_ERROR``: a batch is committed only once its
transaction is, and a database error rewinds the partitions so nothing is lost. Invalid messages go
to ``<topic>.dlq`` with the reason (before the commit) and the batch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.message import KafkaMessage as RawKafkaMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events import ContentEvent, parse_content_event, parse_delivery_status, topics
from loa.kafka import REASON_MAX, describe_validation_error
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.live import Changes
from services.tracker.metrics import TrackerMetrics
from services.tracker.settings import AlertHook, TrackerSettings

log = logging.getLogger(__name__)
E = TypeVar("E")
RETRY_PAUSE_S = 1.0


async def _raw(msg: RawKafkaMessage) -> Any:
    """Skip FastStream's JSON decoding: events are parsed by the contract's own models."""
    return msg.body


async def dead_letter_record(broker: KafkaBroker, record: ConsumerRecord[Any, Any], reason: str) -> None:
    """Send one record of a batch, as it came, to ``<topic>.dlq`` with the reason in headers."""
    headers = {
        "loa-dlq-reason": reason[:REASON_MAX],
        "loa-dlq-topic": record.topic,
        "loa-dlq-partition": str(record.partition),
        "loa-dlq-offset": str(record.offset),
    }
    await broker.publish(record.value or b"", topic=topics.dlq(record.topic), key=record.key, headers=headers)
    log.warning("dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason[:300])


async def _parse_all(
    broker: KafkaBroker,
    msg: RawKafkaMessage,
    parse: Callable[[bytes], E],
    metrics: TrackerMetrics,
    dlq_topic_label: str,
) -> list[E]:
    records: Sequence[ConsumerRecord[Any, Any]] = (
        msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
    )
    parsed: list[E] = []
    for record in records:
        try:
            parsed.append(parse(record.value or b""))
        except ValidationError as e:
            await dead_letter_record(broker, record, describe_validation_error(e))
            metrics.dead_lettered.labels(dlq_topic_label).inc()
    return parsed


@contextlib.asynccontextmanager
async def _pause_on_error(what: str) -> AsyncIterator[None]:
    """A failed write is retried (the batch is rewound, not committed), after a pause, not in a hot loop."""
    try:
        yield
    except Exception:
        log.exception("writing a %s batch failed; it will be consumed again", what)
        await asyncio.sleep(RETRY_PAUSE_S)
        raise


def register(
    broker: KafkaBroker,
    settings: TrackerSettings,
    engine: AsyncEngine,
    changes: Changes,
    metrics: TrackerMetrics,
    hooks: Sequence[AlertHook],
) -> dict[str, Any]:
    """Subscribe the tracker to ``loa.delivery.v1`` and ``loa.content.v1`` (group ``loa-tracker``).

    Returns the subscribers by topic (unprefixed), whose consumers ``/metrics`` reads the lag of.
    """
    common: dict[str, Any] = {
        "group_id": settings.tracker_group_id,
        "batch": True,
        "max_records": settings.tracker_batch_max,
        "batch_timeout_ms": settings.tracker_batch_timeout_ms,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "decoder": _raw,
    }

    statuses = broker.subscriber(settings.topic(topics.DELIVERY), **common)
    contents = broker.subscriber(settings.topic(topics.CONTENT), **common)

    @statuses  # type: ignore[untyped-decorator]
    async def on_status(_body: Any, msg: KafkaMessage) -> None:
        batch = await _parse_all(broker, msg, parse_delivery_status, metrics, topics.DELIVERY)
        async with _pause_on_error("status"):
            applied = await apply_statuses(engine, batch, hooks)
        metrics.observe(applied)
        changes.publish(applied.content_ids)
        log.debug("applied %d status events (%d stale)", len(batch), applied.stale)

    @contents  # type: ignore[untyped-decorator]
    async def on_content(_body: Any, msg: KafkaMessage) -> None:
        batch: list[ContentEvent] = await _parse_all(
            broker, msg, parse_content_event, metrics, topics.CONTENT
        )
        async with _pause_on_error("content"):
            changes.publish(await apply_content_events(engine, batch))

    return {topics.DELIVERY: statuses, topics.CONTENT: contents}

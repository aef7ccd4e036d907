"""Retraction is one fact (#16 item 6): the ingest knows every retraction, whichever door it came
through, and refuses a new version of a retracted content.

Its own retractions are recorded with the request (``contents.retract``); the tracker's reach it on
``loa.content.v1``, read here in the ingest's own group (``loa-ingest-retractions``). The tracker
owns that topic's dead letters: a record refused here is logged and skipped (``settle_refusals``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from faststream.kafka.message import KafkaMessage as RawKafkaMessage
from sqlalchemy.ext.asyncio import AsyncSession

from loa.events import ContentEvent, ContentRetracted, topics
from loa.events.parsing import parse_content_record
from loa.kafka import make_broker, parse_records, records_of, settle_refusals
from services.ingest.db import IngestDb, RetractionRecord
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)
START_RETRY_S = 2.0


async def record_retraction(session: AsyncSession, event: ContentRetracted) -> RetractionRecord:
    """The content's retraction, recorded from ``event`` unless one already is (the first stands)."""
    known = await session.get(RetractionRecord, event.payload.id)
    if known is not None:
        return known
    record = RetractionRecord(
        content_id=event.payload.id,
        retracted_at=event.occurred_at,
        retracted_by=event.payload.requested_by,
        event_id=str(event.event_id),
    )
    session.add(record)
    return record


async def refuse_if_retracted(
    session: AsyncSession, content_id: str, field: str, code: str = "retracted"
) -> None:
    """409 ``code`` naming the content and when and by whom it was retracted, if it was."""
    known = await session.get(RetractionRecord, content_id)
    if known is None:
        return
    when = known.retracted_at.isoformat(timespec="seconds")
    raise ApiError(
        409,
        code,
        f"content {content_id} was retracted at {when} by {known.retracted_by}; submit it under a new id",
        [{"field": field, "reason": f"retracted at {when} by {known.retracted_by}"}],
    )


async def _raw(msg: RawKafkaMessage) -> Any:
    """Skip FastStream's JSON decoding: events are parsed by the contract's own models."""
    return msg.body


def _content_event(record: ConsumerRecord[Any, Any]) -> ContentEvent:
    return parse_content_record(record)


class RetractionListener:
    """Records the retractions on ``loa.content.v1``; a batch is committed after its transaction."""

    def __init__(self, db: IngestDb, settings: IngestSettings, write_lock: asyncio.Lock) -> None:
        self.broker = make_broker(settings, client_id=settings.ingest_retractions_group)
        self._task: asyncio.Task[None] | None = None
        subscriber = self.broker.subscriber(
            settings.topic(topics.CONTENT),
            group_id=settings.group(settings.ingest_retractions_group),
            batch=True,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_raw,
        )

        @subscriber
        async def on_content(_body: Any, msg: KafkaMessage) -> None:
            events, refused = parse_records(records_of(msg), _content_event)
            retractions = [e for e in events if isinstance(e, ContentRetracted)]
            if retractions:
                async with write_lock, db.sessions() as session, session.begin():
                    for event in retractions:
                        await record_retraction(session, event)
                log.info("recorded %d retractions from %s", len(retractions), topics.CONTENT)
            await settle_refusals(self.broker, refused, owner=False)

    def start(self) -> None:
        """Start consuming in the background: the ingest starts without Kafka, like its relay."""
        self._task = asyncio.create_task(self._start(), name="ingest-retraction-listener")

    async def _start(self) -> None:
        while True:
            try:
                await self.broker.start()
                return
            except Exception as e:  # Kafka not up yet: try again, the API serves meanwhile
                log.warning("retraction listener cannot start yet (%s); retrying", type(e).__name__)
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(START_RETRY_S)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            await self.broker.stop()

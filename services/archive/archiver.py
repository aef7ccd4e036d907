"""What the archiver does with a batch of records of ``loa.content.v1`` and ``loa.delivery.v1``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry, Counter

from loa.archive.records import Head, Source
from loa.archive.retention import Retention
from loa.archive.store import ArchiveStore
from loa.events import Content, DeliveryStatus, parse_delivery_status, topics
from loa.events.content import ContentEvent
from loa.events.parsing import parse_content_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arrival:
    """One valid event to archive: its content, id, raw bytes, where it was read, its kind."""

    content_id: str
    event_id: str
    raw: bytes
    source: Source
    content_kind: str | None


class ArchiveMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.records = Counter(
            "loa_archive_records", "Records archived, by topic", ["topic"], registry=self.registry
        )
        self.bytes = Counter("loa_archive_bytes", "Bytes of records archived", registry=self.registry)
        self.duplicates = Counter(
            "loa_archive_duplicates", "Events already archived (read again)", registry=self.registry
        )
        self.locked = Counter(
            "loa_archive_locked", "Records written with an object-lock retention", registry=self.registry
        )
        self.payloads = Counter(
            "loa_archive_payloads", "Payloads stored (what the publishers sent)", registry=self.registry
        )


def arrival(record: ConsumerRecord[Any, Any], prefix: str) -> Arrival:
    """The arrival of a record of either topic; raises ``ValueError`` for one to refuse."""
    topic = record.topic.removeprefix(prefix)
    raw: bytes = record.value or b""
    event: ContentEvent | DeliveryStatus
    if topic == topics.CONTENT:
        event = parse_content_record(record)
        content_id = event.payload.id
        kind = event.payload.kind.value if isinstance(event.payload, Content) else None
    else:
        event = parse_delivery_status(raw)
        content_id, kind = event.payload.content_id, None
    return Arrival(content_id, str(event.event_id), raw, Source(topic, record.partition, record.offset), kind)


class Archiver:
    def __init__(self, store: ArchiveStore, retention: Retention, metrics: ArchiveMetrics) -> None:
        self.store = store
        self.retention = retention
        self.metrics = metrics

    async def keep(self, arrivals: Sequence[Arrival]) -> None:
        """Append each arrival to its content's chain, in the order read (a content's events are
        in one partition of each topic, which this consumer owns together: ``RangePartitionAssignor``).

        A content's head is read from the store at its first event of the batch and carried to its
        next ones: within a batch this consumer is the content's one writer, as it is for reading
        the head at all; a failure drops the batch's heads with the batch (read again on retry)."""
        heads: dict[str, Head] = {}
        for a in arrivals:
            appended = await asyncio.to_thread(
                self.store.append,
                a.content_id,
                a.event_id,
                a.raw,
                a.source,
                a.content_kind,
                self.retention.until,
                heads.get(a.content_id),
            )
            if appended is None:
                self.metrics.duplicates.inc()
                continue
            heads[a.content_id] = appended.head
            self.metrics.records.labels(a.source.topic).inc()
            self.metrics.bytes.inc(appended.size)
            if appended.locked:
                self.metrics.locked.inc()
            log.debug("archived %s (%d bytes)", appended.key, appended.size)

"""The archiver's composition root: the archive store, the consumers of its three topics, HTTP.

HTTP on ``LOA_ARCHIVE_PORT`` (9110) serves ``/livez``, ``/readyz`` (Kafka, the archive bucket) and
``/metrics`` only; exports are made by ``loa archive export`` (README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.message import KafkaMessage as RawKafkaMessage
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loa.archive.settings import ArchiveSettings
from loa.events import topics
from loa.health import Readiness, health_routes, kafka_probe, object_store_probe
from loa.kafka import make_broker, parse_records, records_of, settle_refusals
from loa.mode import mode_gauge
from services.archive.archiver import ArchiveMetrics, Archiver, arrival
from services.archive.payloads import PayloadKeeper, sent_payload_of

log = logging.getLogger(__name__)


async def _raw(msg: RawKafkaMessage) -> Any:
    return msg.body


def subscribe(
    broker: KafkaBroker, settings: ArchiveSettings, archiver: Archiver, keeper: PayloadKeeper
) -> None:
    """Both topics in one subscriber of group ``loa-archive``: the range assignor gives one member
    the same partition of each (both topics have the same partition count, keyed by content id), so
    one member writes a content's chain. The tracker dead-letters what is refused."""
    records = broker.subscriber(
        settings.topic(topics.CONTENT),
        settings.topic(topics.DELIVERY),
        group_id=settings.group(settings.archive_group_id),
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw,
    )

    @records
    async def on_records(_body: Any, msg: KafkaMessage) -> None:
        batch, refused = parse_records(records_of(msg), lambda r: arrival(r, settings.topic_prefix))
        await archiver.keep(batch)
        await settle_refusals(broker, refused, owner=False)

    payloads = broker.subscriber(
        settings.topic(topics.PAYLOAD),
        group_id=settings.group(settings.archive_payloads_group_id),
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw,
    )

    @payloads
    async def on_payloads(_body: Any, msg: KafkaMessage) -> None:
        """What the publishers sent; this group owns the topic's dead letters (no one else reads it)."""
        batch, refused = parse_records(records_of(msg), sent_payload_of)
        await keeper.keep(batch)
        await settle_refusals(broker, refused, owner=True)


def create_app(settings: ArchiveSettings) -> Starlette:
    state: dict[str, Any] = {}
    metrics = ArchiveMetrics()
    mode_gauge(metrics.registry, settings.mode)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        store = settings.archive_store()
        await asyncio.to_thread(store.ensure_bucket, settings.retention().default)
        locked = await asyncio.to_thread(store.lock_supported)
        broker = make_broker(settings, client_id="loa-archive")  # it writes its payloads' dead letters
        keeper = PayloadKeeper(store, metrics.payloads)
        subscribe(broker, settings, Archiver(store, settings.retention(), metrics), keeper)
        state["readiness"] = Readiness(
            {"kafka": kafka_probe(settings), "archive": object_store_probe(store.client, store.bucket)}
        )
        await broker.start()
        log.info(
            "archive: bucket %s, object lock %s",
            store.bucket,
            settings.archive_lock_mode if locked else "not supported",
        )
        try:
            yield
        finally:
            await broker.stop()

    async def prometheus(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [*health_routes(lambda: state["readiness"]), Route("/metrics", prometheus)]
    return Starlette(routes=routes, lifespan=lifespan)

"""The listener's composition root: its store, the readers, the status consumer, the poller, HTTP.

HTTP on ``LOA_LISTENER_PORT`` (9108) serves ``/livez``, ``/readyz`` (Kafka, its store) and
``/metrics`` only: engagement is read on the tracker, which stores what the listener publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.message import KafkaMessage as RawKafkaMessage
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loa.channels.engagement import EngagementReader, load_readers
from loa.events import (
    Comments,
    CommentsObserved,
    DeliveryStatus,
    Engagement,
    EngagementObserved,
    parse_delivery_event,
    topics,
)
from loa.health import Readiness, database_probe, health_routes, kafka_probe
from loa.kafka import make_broker, parse_records, records_of, settle_refusals
from loa.mode import mode_gauge
from services.listener.accounts import Accounts
from services.listener.follow import apply_statuses
from services.listener.poller import Poller, PollerMetrics
from services.listener.settings import ListenerSettings
from services.listener.store import FollowedStore

log = logging.getLogger(__name__)


def build_readers(settings: ListenerSettings) -> dict[str, EngagementReader]:
    """One reader per installed channel that has one; YouTube's gets the listener's quota share."""
    readers: dict[str, EngagementReader] = {}
    for channel, reader_cls in load_readers().items():
        if channel not in settings.channel_names:
            continue
        takes_units = "daily_units" in inspect.signature(reader_cls).parameters
        kwargs: dict[str, Any] = {"daily_units": settings.listener_youtube_daily_units} if takes_units else {}
        readers[channel] = reader_cls(**kwargs)
    return readers


async def _raw(msg: RawKafkaMessage) -> Any:
    return msg.body


def subscribe(broker: KafkaBroker, settings: ListenerSettings, poller: Poller) -> None:
    """``loa.delivery.v1`` in group ``loa-listener``: learn published posts; the tracker dead-letters."""
    statuses = broker.subscriber(
        settings.topic(topics.DELIVERY),
        group_id=settings.group(settings.listener_group_id),
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw,
    )

    @statuses
    async def on_status(_body: Any, msg: KafkaMessage) -> None:
        events, refused = parse_records(records_of(msg), lambda r: parse_delivery_event(r.value or b""))
        batch = [e for e in events if isinstance(e, DeliveryStatus)]  # comment.action: not a post
        if await apply_statuses(poller.store, batch, poller.tables):
            poller.wake.set()
        await settle_refusals(broker, refused, owner=False)


def emitter(broker: KafkaBroker, settings: ListenerSettings) -> Any:
    topic = settings.topic(topics.ENGAGEMENT)

    async def emit(sample: Engagement | Comments) -> None:
        event = (
            EngagementObserved(payload=sample, producer="loa-listener")
            if isinstance(sample, Engagement)
            else CommentsObserved(payload=sample, producer="loa-listener")
        )
        await broker.publish(event.model_dump_json().encode(), topic=topic, key=sample.content_id.encode())

    return emit


def create_app(settings: ListenerSettings) -> Starlette:
    state: dict[str, Any] = {}
    metrics = PollerMetrics()
    mode_gauge(metrics.registry, settings.mode)
    followed = Gauge(
        "loa_listener_posts", "Posts by whether they are still followed", ["state"], registry=metrics.registry
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        store = await FollowedStore.open(settings.listener_database_url)
        broker = make_broker(settings, client_id="loa-listener")
        accounts = Accounts(settings)
        readers = build_readers(settings)
        poller = Poller(settings, store, readers, accounts, emitter(broker, settings), metrics)
        subscribe(broker, settings, poller)
        state["store"] = store
        state["readiness"] = Readiness(
            {"kafka": kafka_probe(settings), "database": database_probe(store.engine)}
        )
        await broker.start()
        task = asyncio.create_task(poller.run(), name="listener-poller")
        log.info("listener: %d channels read (%s)", len(readers), ", ".join(sorted(readers)))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await broker.stop()
            for reader in readers.values():
                reader.close()
            await accounts.close()
            await store.close()

    async def prometheus(_: Request) -> Response:
        for name, count in (await state["store"].counts()).items():
            followed.labels(name).set(count)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [*health_routes(lambda: state["readiness"]), Route("/metrics", prometheus)]
    return Starlette(routes=routes, lifespan=lifespan)

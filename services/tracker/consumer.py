"""The Kafka side: batches of status and content events → SQL, offsets committed after the write.

Both subscribers are batch subscribers with ``NACK_ON_ERROR``: a batch is committed only once its
transaction is, and a database error rewinds the partitions so nothing is lost. Refused messages
(invalid, keyed other than their content id, or targeting a channel no publisher runs) go to
``<topic>.dlq`` with the reason after the write and before the commit, and the batch goes on; an
approval's targets on an unknown channel are recorded as ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.message import KafkaMessage as RawKafkaMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.audit import chain
from loa.events import (
    AuditRecorded,
    CommentActionSettled,
    CommentsObserved,
    ContentEvent,
    ContentRetracted,
    DeliveryStatus,
    EngagementObserved,
    parse_audit_recorded,
    parse_delivery_event,
    parse_engagement,
    topics,
)
from loa.events.commands import Command
from loa.events.parsing import parse_command, parse_content_record
from loa.kafka import Refusal, linger_after, parse_records, records_of, settle_refusals
from services.tracker import comment_actions
from services.tracker.comments import record_comments, watch_rule
from services.tracker.engagement import record_samples
from services.tracker.ingest import apply_content_events, apply_statuses
from services.tracker.live import Changes
from services.tracker.metrics import TrackerMetrics
from services.tracker.settings import RETRY_PAUSE_S, AlertHook, TrackerSettings

log = logging.getLogger(__name__)


async def _raw(msg: RawKafkaMessage) -> Any:
    """Skip FastStream's JSON decoding: events are parsed by the contract's own models."""
    return msg.body


def _delivery_event(record: ConsumerRecord[Any, Any]) -> DeliveryStatus | CommentActionSettled:
    return parse_delivery_event(record.value or b"")


def _audit(record: ConsumerRecord[Any, Any]) -> AuditRecorded:
    return parse_audit_recorded(record.value or b"")


def _command(record: ConsumerRecord[Any, Any]) -> Command:
    return parse_command(record.value or b"")


def quiet_fetch(settings: TrackerSettings) -> dict[str, Any]:
    """Every subscriber's idle work, which five of them made ~20-25 ms CPU a second (issue #20,
    docs/benchmarks.md). The statuses' and contents' linger is a wait after a batch
    (``loa.kafka.linger_after``), not a longer hold of the fetch."""
    return {
        # Kafka's fetch.max.wait.ms (a second by default): how long the broker holds a fetch while
        # fewer than fetch.min.bytes (1: any record) are there
        # (kafka.apache.org/documentation/#consumerconfigs). A record that arrives is answered at
        # once: an idle topic is only fetched less often (once a second, not twice). No longer than
        # the pause before a failed batch is rewound, so the batch is fetched again as soon as
        # today; and well within /metrics' lag read (``loa.consumer_lag.TIMEOUT_S``), which waits
        # behind a held fetch on the same connection (a broker answers one request of a connection
        # at a time).
        "fetch_max_wait_ms": settings.tracker_fetch_wait_ms,
        # aiokafka's ``consumer_timeout_ms`` (default 200): how often its fetch routine wakes when
        # none of what it waits on (a fetch's answer, a seek or rewind, a rebalance) has happened.
        "consumer_timeout_ms": 1000,
    }


def unknown_channel_refusals(
    pairs: Sequence[tuple[ConsumerRecord[Any, Any], ContentEvent]], known: frozenset[str]
) -> list[Refusal]:
    """An approval or update with a target no publisher runs: its dead letter names the targets."""
    refused = []
    for record, event in pairs:
        if isinstance(event, ContentRetracted):
            continue
        bad = [
            f"payload.targets.{i}.channel: no publisher runs channel {t.channel!r}"
            for i, t in enumerate(event.payload.targets)
            if t.channel not in known
        ]
        if bad:
            reason = "; ".join(bad) + f" (channels: {', '.join(sorted(known))})"
            refused.append(Refusal(record, "unknown_channel", reason))
    return refused


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
    """Subscribe the tracker to ``loa.delivery.v1`` and ``loa.content.v1`` (one subscriber, group
    ``loa-tracker``),
    to ``loa.commands.v1`` (``loa-tracker-commands``) to dead-letter invalid commands, and to
    ``loa.audit.v1`` (``loa-tracker-audit``) to chain the ingest's acts into the audit log, and to
    ``loa.engagement.v1`` (``loa-tracker-engagement``) to keep the listener's samples and comments
    (the inbox), which the misinformation watch reads as they come.

    Returns the subscribers by topic (unprefixed), whose consumers ``/metrics`` reads the lag of
    (the statuses' and the contents' is the same subscriber: its lag is read by topic).
    """
    common: dict[str, Any] = {
        "group_id": settings.group(settings.tracker_group_id),
        "batch": True,
        "max_records": settings.tracker_batch_max,
        **quiet_fetch(settings),
        "batch_timeout_ms": settings.tracker_batch_timeout_ms,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "decoder": _raw,
    }

    quiet = {**common, "batch_timeout_ms": settings.tracker_quiet_batch_timeout_ms}
    # Statuses and contents in one subscriber: one fetch loop, offset commit and TLS connection
    # for both, and the approvals gathered by the linger as the statuses are. Alone, the content
    # subscriber wrote 30 contents/s one batch each, as much of the tracker's CPU as the 150
    # deliveries' status events (issue #20, docs/benchmarks.md "Reading the s25 run").
    content_topic = settings.topic(topics.CONTENT)
    flow = broker.subscriber(settings.topic(topics.DELIVERY), content_topic, **common)

    known = settings.channel_names

    async def settle_as_owner(refused: Sequence[Refusal], topic: str) -> None:
        """``settle_refusals`` as the owner, counted for ``/metrics``.

        The tracker owns the dead letters of every Loa topic: it reads every event of each, once
        (one group per topic, however many publishers and replicas run), and records what it
        refused in its own view. The publishers' groups log and skip.
        """
        await settle_refusals(broker, refused, owner=True)
        metrics.dead_lettered.labels(topic).inc(len(refused))

    @flow  # type: ignore[untyped-decorator]
    async def on_flow(_body: Any, msg: KafkaMessage) -> None:
        """A batch's contents, status events and comment actions' outcomes in one transaction, the
        contents first: a status event may come in the batch of its approval (either order is
        recorded right; this one shows the delivery under its content at once). Dead letters after
        the write; the offsets then, before the linger, so ``/metrics``' lag counts only what is
        not yet written."""
        records = records_of(msg)
        pairs, refused_contents = parse_records(
            [r for r in records if r.topic == content_topic], lambda r: (r, parse_content_record(r))
        )
        refused_contents += unknown_channel_refusals(pairs, known)
        others = [r for r in records if r.topic != content_topic]
        events, refused_statuses = parse_records(others, _delivery_event)
        statuses = [e for e in events if isinstance(e, DeliveryStatus)]
        outcomes = [e.payload for e in events if isinstance(e, CommentActionSettled)]
        async with _pause_on_error("status and content"), engine.begin() as conn:
            approved = await apply_content_events(conn, [event for _, event in pairs], known)
            applied = await apply_statuses(conn, statuses, hooks)
            answered = await comment_actions.settle(conn, outcomes)
        await settle_as_owner(refused_contents, topics.CONTENT)
        await settle_as_owner(refused_statuses, topics.DELIVERY)
        metrics.observe(applied)
        changes.publish(approved | applied.content_ids | set(answered))
        log.debug(
            "applied %d contents, %d status events (%d stale)", len(pairs), len(statuses), applied.stale
        )
        await msg.ack()
        await linger_after(len(records), settings.tracker_batch_max, settings.tracker_status_linger_ms)

    # Commands only for their dead letters: each publisher's commands group reads them all, so
    # one of those writing them would make one copy per channel. A group of its own: aiokafka
    # refuses one group whose members subscribe to different topics.
    commands = broker.subscriber(
        settings.topic(topics.COMMANDS),
        **{**quiet, "group_id": settings.group(f"{settings.tracker_group_id}-commands")},
    )

    @commands  # type: ignore[untyped-decorator]
    async def on_command(_body: Any, msg: KafkaMessage) -> None:
        _, refused = parse_records(records_of(msg), _command)
        await settle_as_owner(refused, topics.COMMANDS)

    # The ingest's acts, chained into the audit log the tracker alone writes; their own group, as
    # for commands. Chaining skips an event id already chained, so a batch consumed again after a
    # rewind adds nothing twice.
    audit = broker.subscriber(
        settings.topic(topics.AUDIT),
        **{**quiet, "group_id": settings.group(f"{settings.tracker_group_id}-audit")},
    )

    @audit  # type: ignore[untyped-decorator]
    async def on_audit(_body: Any, msg: KafkaMessage) -> None:
        batch, refused = parse_records(records_of(msg), _audit)
        async with _pause_on_error("audit"):
            await chain.append(engine, batch)
        await settle_as_owner(refused, topics.AUDIT)

    # The listener's samples, kept as a time series; a group of its own, as for commands.
    samples = broker.subscriber(
        settings.topic(topics.ENGAGEMENT),
        **{**quiet, "group_id": settings.group(f"{settings.tracker_group_id}-engagement")},
    )

    @samples  # type: ignore[untyped-decorator]
    async def on_engagement(_body: Any, msg: KafkaMessage) -> None:
        batch, refused = parse_records(records_of(msg), lambda r: parse_engagement(r.value or b""))
        async with _pause_on_error("engagement"):
            await record_samples(engine, [e for e in batch if isinstance(e, EngagementObserved)])
            listed = [e for e in batch if isinstance(e, CommentsObserved)]
            await record_comments(engine, listed, hooks, watch_rule(settings))
        await settle_as_owner(refused, topics.ENGAGEMENT)

    return {
        topics.DELIVERY: flow,
        topics.CONTENT: flow,
        topics.AUDIT: audit,
        topics.ENGAGEMENT: samples,
    }

"""Kafka plumbing every service shares: the broker factory and the one consumer path for bad input.

Every consumer parses its records with ``parse_records`` and hands the refused ones to
``settle_refusals``: the group that owns a topic's dead letters writes one copy to ``<topic>.dlq``
with the same headers (``loa-dlq-reason``, ``loa-dlq-error``, ``loa-dlq-topic``,
``loa-dlq-partition``, ``loa-dlq-offset``); every other group logs and skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from loa.events.parsing import RefusedMessageError
from loa.events.topics import dlq
from loa.kafka_security import broker_security, client_security
from loa.settings import LoaSettings

log = logging.getLogger(__name__)

REASON_MAX = 2000
T = TypeVar("T")
RECORD_OVERHEAD_BYTES = 1024
"""What a record adds to its value: key, headers, record and batch framing (aiokafka's
``DefaultRecordBatchBuilder.estimate_size_in_bytes`` counts them against ``max_request_size``)."""


def max_event_bytes(settings: LoaSettings) -> int:
    """The largest event value a Loa producer can send: the one size limit every check derives from."""
    return settings.kafka_max_message_bytes - RECORD_OVERHEAD_BYTES


async def linger_after(batch: int, most: int, ms: int) -> None:
    """After a batch short of ``most`` records, wait ``ms`` before the next poll while the client's
    fetcher gathers what arrives: a steady stream then comes in batches of what one round brings,
    each paying a transaction and an offset commit once, not one batch per record (issue #20,
    docs/benchmarks.md). A record after a quiet spell is taken at once; 0: no wait.

    Not the broker's hold (``fetch.max.wait.ms`` with a ``fetch.min.bytes`` a stream does not reach,
    kafka.apache.org/documentation/#consumerconfigs): that gathers as much, but holds the first
    record after a quiet spell too, and answers every idle fetch after the linger instead of the
    subscriber's idle wait (the tracker's 200 ms against a second: five times the idle fetches)."""
    if ms and batch < most:
        await asyncio.sleep(ms / 1000)


def make_broker(settings: LoaSettings, **kwargs: Any) -> KafkaBroker:
    """A broker whose producer never loses or duplicates a send (acks=all, idempotent), signed in
    as ``settings`` say (loa.kafka_security). Its principal needs a topic ``WRITE``: Kafka implies
    ``IdempotentWrite`` from no other grant (KIP-679)."""
    # FastStream's own logger formats plain text; ours propagates to the JSON handler of loa.logging.
    kwargs.setdefault("logger", logging.getLogger("loa.faststream"))
    return KafkaBroker(
        settings.kafka_bootstrap,
        max_request_size=settings.kafka_max_message_bytes,
        acks="all",
        enable_idempotence=True,
        client_id=kwargs.pop("client_id", "loa"),
        security=broker_security(settings),
        **kwargs,
    )


class RenewedProducer:
    """An idempotent ``acks=all`` producer for an outbox relay, replaced after any failed round.

    aiokafka's producer does not come back from some broker outages: a batch that expired while
    the broker was starting (``LeaderNotAvailableError``) leaves its idempotent sequence numbers
    out of step with the broker's, every later send fails with ``OutOfOrderSequenceNumber`` for
    the life of the producer (aio-libs/aiokafka#1017); or it stays stuck on a dead connection. A
    relay calls ``drop`` when a round fails and ``get`` a fresh producer (new producer id) for the
    next; what was sent twice meanwhile is dropped by the consumers, who key on the event.
    """

    def __init__(self, settings: LoaSettings, **config: Any) -> None:
        self._config = {
            "request_timeout_ms": int(settings.kafka_outbox_request_timeout_seconds * 1000),
            **config,  # a relay's own request timeout wins (the ingest's: 10 s)
            "bootstrap_servers": settings.kafka_bootstrap,
            **client_security(settings),
            "max_request_size": settings.kafka_max_message_bytes,  # as make_broker's
            "acks": "all",
            "enable_idempotence": True,
        }
        self._producer: AIOKafkaProducer | None = None

    async def get(self) -> AIOKafkaProducer:
        """The started producer (started now if there is none)."""
        if self._producer is None:
            producer = AIOKafkaProducer(**self._config)
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def drop(self) -> None:
        """Stop and forget the producer (after a failure, and at the end)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=5)


def describe_validation_error(error: ValidationError) -> str:
    """``payload.title: Field required; payload.publish_at: ...``: field and reason, short."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in item["loc"]) or "(message)"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)[:REASON_MAX]


def describe_parse_error(error: Exception) -> tuple[str, str]:
    """``(error kind, reason)`` of a message that was refused: ``unparseable``, ``invalid`` or a
    ``RefusedMessageError``'s own kind."""
    if isinstance(error, RefusedMessageError):
        return error.kind, str(error)[:REASON_MAX]
    if isinstance(error, ValidationError):
        kinds = {item["type"] for item in error.errors(include_url=False, include_input=False)}
        kind = "unparseable" if kinds & {"json_invalid", "json_type"} else "invalid"
        return kind, describe_validation_error(error)
    return "unparseable", f"{type(error).__name__}: {error}"[:REASON_MAX]


@dataclass(frozen=True)
class Refusal:
    """A consumed record that will not be applied, and why (``kind``: the ``loa-dlq-error`` header)."""

    record: ConsumerRecord[Any, Any]
    kind: str
    reason: str


def parse_records(
    records: Sequence[ConsumerRecord[Any, Any]], parse: Callable[[ConsumerRecord[Any, Any]], T]
) -> tuple[list[T], list[Refusal]]:
    """The consumer-side validator of every Loa topic: the parsed events, and the records refused.

    ``parse`` raises ``pydantic.ValidationError``, ``RefusedMessageError`` or another ``ValueError``
    (``UnicodeDecodeError`` is one); anything else is a bug and propagates.
    """
    parsed: list[T] = []
    refused: list[Refusal] = []
    for record in records:
        try:
            parsed.append(parse(record))
        except ValueError as e:  # ValidationError and RefusedMessageError are ValueErrors
            kind, reason = describe_parse_error(e)
            refused.append(Refusal(record, kind, reason))
    return parsed, refused


async def _dead_letter(broker: KafkaBroker, refusal: Refusal) -> None:
    """Send the record as it came, with the reason in headers, to ``<its topic>.dlq``: the only
    writer of dead letters, called by ``settle_refusals`` alone so every owner writes the same."""
    record = refusal.record
    headers = {
        "loa-dlq-reason": refusal.reason[:REASON_MAX],
        "loa-dlq-error": refusal.kind,
        "loa-dlq-topic": record.topic,
        "loa-dlq-partition": str(record.partition),
        "loa-dlq-offset": str(record.offset),
    }
    await broker.publish(record.value or b"", topic=dlq(record.topic), key=record.key, headers=headers)
    log.warning(
        "dead-lettered %s[%s]@%s (%s): %s",
        record.topic,
        record.partition,
        record.offset,
        refusal.kind,
        refusal.reason[:300],
    )


async def settle_refusals(broker: KafkaBroker, refusals: Sequence[Refusal], *, owner: bool) -> None:
    """Dead-letter the refused records if this consumer group owns the topic's dead letters;
    otherwise log and skip them (the owner's group reads the same records and writes the one copy).

    Call it after the batch's writes and before its offsets are committed: a failure rewinds the
    batch, and nothing refused is skipped without its dead letter.
    """
    for refusal in refusals:
        if owner:
            await _dead_letter(broker, refusal)
        else:
            record = refusal.record
            log.info(
                "skipped %s[%s]@%s (%s; its owner dead-letters it): %s",
                record.topic,
                record.partition,
                record.offset,
                refusal.kind,
                refusal.reason[:300],
            )


def records_of(msg: KafkaMessage) -> tuple[ConsumerRecord[Any, Any], ...]:
    """The consumer records behind a FastStream message (a batch subscriber's or a single one)."""
    raw = msg.raw_message
    return raw if isinstance(raw, tuple) else (raw,)

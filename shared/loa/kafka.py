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
from typing import Any, NamedTuple, TypeVar

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError
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


class OutboxRecord(NamedTuple):
    """One row of an outbox, as a relay sends it."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


def _unsettled(outcome: BaseException | None) -> bool:
    """A row's send neither acknowledged nor refused for good."""
    return outcome is not None and not isinstance(outcome, MessageSizeTooLargeError)


@dataclass(frozen=True)
class SentRound:
    """What became of a round of outbox rows (``RenewedProducer.send_in_order``)."""

    settled: int
    """How many rows, from the first, Kafka acknowledged or refused for good: the relay marks them
    sent and leaves the rest for its next round."""
    refused: dict[int, MessageSizeTooLargeError]
    """Which of them, by index, Kafka refused as too large."""


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

    async def send_in_order(self, records: Sequence[OutboxRecord]) -> SentRound:
        """Send a round of outbox rows, one after the other, and wait for every acknowledgement:
        both relays' round. A row Kafka refuses as too large is settled for good: past the
        producer's ``max_request_size`` ``send`` raises it, past the broker's ``message.max.bytes``
        the acknowledgement does. Anything else (an outage) cuts the round short where it came.

        What is settled is a prefix: the rows up to the first that is neither acknowledged nor
        refused. The rest are sent again next round, in order, with a new producer: a batch the
        broker refused leaves the idempotent producer's sequence numbers for that partition out of
        step, and every later batch there fails with ``OutOfOrderSequenceNumber`` (what an
        acknowledged row after the cut adds is a duplicate, which the consumers drop). Raises when
        nothing is settled.

        The sends are awaited in turn: the order of the sends is the rows' order on a partition."""
        producer = await self.get()
        outcomes: list[BaseException | None] = [None] * len(records)
        acks: list[tuple[int, asyncio.Future[Any]]] = []
        end = len(records)  # past the last row handed to the producer
        for i, record in enumerate(records):
            try:
                ack = await producer.send(
                    record.topic, value=record.value, key=record.key, headers=record.headers
                )
                acks.append((i, ack))
            except MessageSizeTooLargeError as e:
                outcomes[i] = e
            except Exception as e:  # an outage: nothing after it is sent
                outcomes[i], end = e, i + 1
                break
        answers = await asyncio.gather(*(ack for _, ack in acks), return_exceptions=True)
        for (i, _), answer in zip(acks, answers, strict=True):
            outcomes[i] = answer if isinstance(answer, BaseException) else None  # else its RecordMetadata
        settled = next((i for i, o in enumerate(outcomes[:end]) if _unsettled(o)), end)
        if settled < len(records) or any(isinstance(a, MessageSizeTooLargeError) for a in answers):
            await self.drop()  # a refusal by the broker put the producer's sequence out of step
        if settled < len(records):
            error = outcomes[settled]
            assert error is not None
            if settled == 0:
                raise error
            log.warning(
                "%d of %d outbox rows settled before %s; the rest go again with a new producer",
                settled,
                len(records),
                type(error).__name__,
            )
        too_large = {
            i: o for i, o in enumerate(outcomes[:settled]) if isinstance(o, MessageSizeTooLargeError)
        }
        return SentRound(settled, too_large)

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

"""Kafka plumbing every service shares: the broker factory and the dead-letter path."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from loa.events.topics import dlq
from loa.settings import LoaSettings

log = logging.getLogger(__name__)

REASON_MAX = 2000
T = TypeVar("T")


def make_broker(settings: LoaSettings, **kwargs: Any) -> KafkaBroker:
    """A broker whose producer never loses or duplicates a send: acks=all, idempotent."""
    # FastStream's own logger formats plain text; ours propagates to the JSON handler of loa.logging.
    kwargs.setdefault("logger", logging.getLogger("loa.faststream"))
    return KafkaBroker(
        settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        client_id=kwargs.pop("client_id", "loa"),
        **kwargs,
    )


def describe_validation_error(error: ValidationError) -> str:
    """``payload.title: Field required; payload.publish_at: ...``: field and reason, short."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in item["loc"]) or "(message)"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)[:REASON_MAX]


async def dead_letter(
    broker: KafkaBroker, msg: KafkaMessage, topic: str, reason: str, error: str = "invalid"
) -> None:
    """Send the message as it came, with the reason in headers, to ``<topic>.dlq``."""
    await dead_letter_record(broker, msg.raw_message, topic, reason, error, body=msg.body)


async def dead_letter_record(
    broker: KafkaBroker, record: Any, topic: str, reason: str, error: str = "invalid", body: Any = None
) -> None:
    """``dead_letter`` of one consumer record (e.g. one message of a batch)."""
    key = getattr(record, "key", None)
    headers = {
        "loa-dlq-reason": reason[:REASON_MAX],
        "loa-dlq-error": error,
        "loa-dlq-topic": topic,
        "loa-dlq-partition": str(getattr(record, "partition", "")),
        "loa-dlq-offset": str(getattr(record, "offset", "")),
    }
    value = body if body is not None else getattr(record, "value", None) or b""
    await broker.publish(value, topic=dlq(topic), key=key, headers=headers)
    log.warning("dead-lettered a message from %s: %s", topic, reason[:300])


def describe_parse_error(error: Exception) -> tuple[str, str]:
    """``(error kind, reason)`` for a message that did not parse: ``unparseable`` or ``invalid``."""
    if isinstance(error, ValidationError):
        kinds = {item["type"] for item in error.errors(include_url=False, include_input=False)}
        kind = "unparseable" if kinds & {"json_invalid", "json_type"} else "invalid"
        return kind, describe_validation_error(error)
    return "unparseable", f"{type(error).__name__}: {error}"[:REASON_MAX]


async def parse_or_dead_letter(
    broker: KafkaBroker, msg: KafkaMessage, topic: str, parser: Callable[[bytes], T]
) -> T | None:
    """The consumer-side validator: the parsed event, or ``None`` after dead-lettering the message.

    Every consumer of a Loa topic parses through this, so a message from any producer (the ingest
    API or a content system writing to Kafka directly) that is unparseable or invalid goes to
    ``<topic>.dlq`` with the reason in the ``loa-dlq-reason`` header (``loa-dlq-error`` says
    ``unparseable`` or ``invalid``), and the consumer goes on with the next message::

        @broker.subscriber(settings.topic(topics.CONTENT), group_id="loa-publisher-x")
        async def on_content(msg: KafkaMessage) -> None:
            event = await parse_or_dead_letter(broker, msg, settings.topic(topics.CONTENT),
                                               parse_content_event)
            if event is None:
                return  # dead-lettered; the offset is committed like any handled message
            ...

    Take only the raw message (``faststream.kafka.KafkaMessage`` is already annotated as the
    context's message) and no body parameter: FastStream would otherwise decode and validate the
    body itself, and a bad message would fail before it gets here. ``topic`` is the full
    (prefixed) topic name the message came from.
    """
    raw = msg.body if isinstance(msg.body, bytes) else bytes(msg.body)
    try:
        return parser(raw)
    except (ValidationError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        kind, reason = describe_parse_error(e)
        await dead_letter(broker, msg, topic, reason, error=kind)
        return None

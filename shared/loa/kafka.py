"""Kafka plumbing every service shares: the broker factory and the dead-letter path."""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from loa.events.topics import dlq
from loa.settings import LoaSettings

log = logging.getLogger(__name__)

REASON_MAX = 2000


def make_broker(settings: LoaSettings, **kwargs: Any) -> KafkaBroker:
    """A broker whose producer never loses or duplicates a send: acks=all, idempotent."""
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


async def dead_letter(broker: KafkaBroker, msg: KafkaMessage, topic: str, reason: str) -> None:
    """Send the message as it came, with the reason in headers, to ``<topic>.dlq``."""
    record = msg.raw_message
    key = getattr(record, "key", None)
    headers = {
        "loa-dlq-reason": reason[:REASON_MAX],
        "loa-dlq-topic": topic,
        "loa-dlq-partition": str(getattr(record, "partition", "")),
        "loa-dlq-offset": str(getattr(record, "offset", "")),
    }
    await broker.publish(msg.body, topic=dlq(topic), key=key, headers=headers)
    log.warning("dead-lettered a message from %s: %s", topic, reason[:300])

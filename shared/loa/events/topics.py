"""Kafka topic names: the published contract between Loa's services."""

from __future__ import annotations

CONTENT = "loa.content.v1"
DELIVERY = "loa.delivery.v1"
COMMANDS = "loa.commands.v1"
AUDIT = "loa.audit.v1"
"""Written by the ingest and the tracker, read by the tracker (``loa-tracker-audit``); see loa.kafka_acl."""


def dlq(topic: str) -> str:
    """The dead-letter topic of ``topic``: invalid messages go there with the reason."""
    return f"{topic}.dlq"


ALL = (CONTENT, DELIVERY, COMMANDS, AUDIT, dlq(CONTENT), dlq(DELIVERY), dlq(COMMANDS), dlq(AUDIT))

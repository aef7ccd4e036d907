"""Kafka topic names: the published contract between Loa's services."""

from __future__ import annotations

CONTENT = "loa.content.v1"
DELIVERY = "loa.delivery.v1"
COMMANDS = "loa.commands.v1"
ENGAGEMENT = "loa.engagement.v1"
"""Written by the listener (one event per poll of a published post), read by the tracker."""
PAYLOAD = "loa.payload.v1"
"""What each attempt sent (``loa.archive.payload``), keyed by its SHA-256: written by the publishers
through their outbox with the attempt's ``publishing`` event, read by the archiver into
``payloads/<sha256>.json``."""
AUDIT = "loa.audit.v1"
"""Written by the ingest and the tracker, read by the tracker (``loa-tracker-audit``); see loa.kafka_acl."""


def dlq(topic: str) -> str:
    """The dead-letter topic of ``topic``: invalid messages go there with the reason."""
    return f"{topic}.dlq"


ALL = (
    CONTENT,
    DELIVERY,
    COMMANDS,
    AUDIT,
    ENGAGEMENT,
    PAYLOAD,
    dlq(CONTENT),
    dlq(DELIVERY),
    dlq(COMMANDS),
    dlq(AUDIT),
    dlq(ENGAGEMENT),
    dlq(PAYLOAD),
)

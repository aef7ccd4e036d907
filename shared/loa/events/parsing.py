"""Parse events from raw Kafka bytes with one adapter per topic."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import TypeAdapter

from loa.events.audit import AuditRecorded
from loa.events.commands import Command
from loa.events.comment_actions import CommentActionSettled, DeliveryEvent
from loa.events.content import ContentEvent
from loa.events.delivery import DeliveryStatus
from loa.events.engagement import CommentsObserved, EngagementEvent, EngagementObserved

_CONTENT: TypeAdapter[ContentEvent] = TypeAdapter(ContentEvent)
_COMMAND: TypeAdapter[Command] = TypeAdapter(Command)


def parse_content_event(raw: bytes | str) -> ContentEvent:
    """Raises ``pydantic.ValidationError`` naming the field and the reason."""
    return _CONTENT.validate_json(raw)


class RefusedMessageError(ValueError):
    """A message that parsed but can never be applied (e.g. its key is not its content id)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


class KeyedRecord(Protocol):
    @property
    def key(self) -> Any: ...
    @property
    def value(self) -> Any: ...


def parse_content_record(record: KeyedRecord) -> ContentEvent:
    """A ``loa.content.v1`` record: a valid event whose Kafka key is its content id.

    The key picks the partition, and a content's events stay in order only within one partition:
    an event keyed otherwise could overtake (or be overtaken by) its content's other versions.
    """
    event = parse_content_event(record.value or b"")
    key = record.key.decode("utf-8", "replace") if isinstance(record.key, bytes) else record.key
    if key != event.payload.id:
        raise RefusedMessageError(
            "key_mismatch", f"key: {key!r} is not the content id {event.payload.id!r} (key = content id)"
        )
    return event


def parse_command(raw: bytes | str) -> Command:
    return _COMMAND.validate_json(raw)


def parse_delivery_status(raw: bytes | str) -> DeliveryStatus:
    return DeliveryStatus.model_validate_json(raw)


_DELIVERY: TypeAdapter[DeliveryEvent] = TypeAdapter(DeliveryEvent)


def parse_delivery_event(raw: bytes | str) -> DeliveryStatus | CommentActionSettled:
    """Any event of ``loa.delivery.v1``: a status or a comment action's outcome."""
    return _DELIVERY.validate_json(raw)


def parse_audit_recorded(raw: bytes | str) -> AuditRecorded:
    return AuditRecorded.model_validate_json(raw)


_ENGAGEMENT: TypeAdapter[EngagementEvent] = TypeAdapter(EngagementEvent)


def parse_engagement(raw: bytes | str) -> EngagementObserved | CommentsObserved:
    return _ENGAGEMENT.validate_json(raw)

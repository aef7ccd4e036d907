"""Parse events from raw Kafka bytes with one adapter per topic."""

from __future__ import annotations

from pydantic import TypeAdapter

from loa.events.commands import Command
from loa.events.content import ContentEvent
from loa.events.delivery import DeliveryStatus

_CONTENT: TypeAdapter[ContentEvent] = TypeAdapter(ContentEvent)
_COMMAND: TypeAdapter[Command] = TypeAdapter(Command)


def parse_content_event(raw: bytes | str) -> ContentEvent:
    """Raises ``pydantic.ValidationError`` naming the field and the reason."""
    return _CONTENT.validate_json(raw)


def parse_command(raw: bytes | str) -> Command:
    return _COMMAND.validate_json(raw)


def parse_delivery_status(raw: bytes | str) -> DeliveryStatus:
    return DeliveryStatus.model_validate_json(raw)

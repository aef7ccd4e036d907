"""The one JSON envelope every Loa event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from loa.events.constraints import Text
from loa.text import NfcStr

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """The current time, time zone aware (UTC)."""
    return datetime.now(UTC)


class Model(BaseModel):
    """Base of every event model: unknown fields are refused, strings are NFC."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def type_is_required(schema: dict[str, Any]) -> None:
    """``type`` has a default for Python callers; on the wire it selects the event, so it is required."""
    schema["required"] = sorted({*schema.get("required", []), "type"})


class Envelope(Model):
    """Fields common to every event; subclasses add ``type`` and ``payload``."""

    model_config = ConfigDict(json_schema_extra=type_is_required)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    schema_version: Annotated[int, Field(ge=1)] = SCHEMA_VERSION
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    producer: Annotated[NfcStr, Text(min_length=1, max_length=100)] = "loa"
    correlation_id: Annotated[NfcStr, Text(max_length=200)] | None = None

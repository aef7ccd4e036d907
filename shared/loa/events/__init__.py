"""Loa's event contract: pydantic v2 models, JSON on the wire, one envelope."""

from loa.events import topics
from loa.events.audit import ActorKind, AuditAction, AuditEntry, AuditOutcome, AuditRecorded
from loa.events.commands import CancelDelivery, Command, DeliveryRef, RetryDelivery
from loa.events.content import (
    DEFAULT_TIMEZONE,
    Content,
    ContentApproved,
    ContentEvent,
    ContentKind,
    ContentRetracted,
    ContentUpdated,
    MediaRef,
    Retraction,
    Target,
)
from loa.events.delivery import (
    FINAL_STATES,
    Delivery,
    DeliveryError,
    DeliveryState,
    DeliveryStatus,
    ErrorClass,
    delivery_id,
)
from loa.events.envelope import SCHEMA_VERSION, Envelope, utcnow
from loa.events.parsing import (
    parse_audit_recorded,
    parse_command,
    parse_content_event,
    parse_delivery_status,
)

__all__ = [
    "DEFAULT_TIMEZONE",
    "FINAL_STATES",
    "SCHEMA_VERSION",
    "ActorKind",
    "AuditAction",
    "AuditEntry",
    "AuditOutcome",
    "AuditRecorded",
    "CancelDelivery",
    "Command",
    "Content",
    "ContentApproved",
    "ContentEvent",
    "ContentKind",
    "ContentRetracted",
    "ContentUpdated",
    "Delivery",
    "DeliveryError",
    "DeliveryRef",
    "DeliveryState",
    "DeliveryStatus",
    "Envelope",
    "ErrorClass",
    "MediaRef",
    "Retraction",
    "RetryDelivery",
    "Target",
    "delivery_id",
    "parse_audit_recorded",
    "parse_command",
    "parse_content_event",
    "parse_delivery_status",
    "topics",
    "utcnow",
]

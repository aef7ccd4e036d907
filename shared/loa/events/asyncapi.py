"""The published contract as FastStream sees it: one publisher per Loa topic.

``faststream docs gen loa.events.asyncapi:app`` (or ``python -m loa.events.export``) renders it
to ``docs/asyncapi/asyncapi.json``. Nothing here connects to Kafka.
"""

from __future__ import annotations

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from loa.events import topics
from loa.events.audit import AuditRecorded
from loa.events.commands import Command
from loa.events.comment_actions import DeliveryEvent
from loa.events.content import ContentEvent
from loa.events.engagement import EngagementEvent
from loa.events.payload import SentPost

DOCUMENTED_BOOTSTRAP = "127.0.0.1:9092"
"""The local stack's broker; the document names it, nothing connects to it."""

broker = KafkaBroker(DOCUMENTED_BOOTSTRAP)
broker.publisher(
    topics.CONTENT,
    title="loa.content.v1",
    description=(
        "A content is approved, updated or retracted (discriminated on `type`). "
        "Message key: the content id, so all events of one content stay ordered. "
        "Invalid messages go to loa.content.v1.dlq with the reason in the `loa-dlq-reason` header."
    ),
    schema=ContentEvent,
)
broker.publisher(
    topics.DELIVERY,
    title="loa.delivery.v1",
    description=(
        "Where one content version stands on one channel account (delivery.status), and how a "
        "publisher settled a reply to or the moderation of a citizen's comment (comment.action). "
        "Message key: the content id."
    ),
    schema=DeliveryEvent,
)
broker.publisher(
    topics.COMMANDS,
    title="loa.commands.v1",
    description=(
        "What ops ask publishers to do: retry, cancel or release (a late item after a hold) a "
        "delivery (message key: the content id); hold and release publishing in a scope, all or "
        "a unit, a channel or an account (message key: the hold id); add or remove an account "
        "(message key: channel/account); reply to or moderate a citizen's comment through the "
        "owning channel's publisher (message key: the content id)."
    ),
    schema=Command,
)
broker.publisher(
    topics.AUDIT,
    title="loa.audit.v1",
    description=(
        "An act of a person or service account (submit, retract, upload, ...) for the tracker's "
        "hash-chained audit log, which the tracker alone writes. Message key: the actor's name. "
        "Invalid messages go to loa.audit.v1.dlq with the reason."
    ),
    schema=AuditRecorded,
)
broker.publisher(
    topics.ENGAGEMENT,
    title="loa.engagement.v1",
    description=(
        "What a platform said of one published post at one moment (views, reactions, comments, "
        "shares...) and the comments it lists (comments.observed), written by the listener on its "
        "polling schedule. Message key: the content id. "
        "Invalid messages go to loa.engagement.v1.dlq with the reason."
    ),
    schema=EngagementEvent,
)
broker.publisher(
    topics.PAYLOAD,
    title="loa.payload.v1",
    description=(
        "What a publisher sent at an attempt, for the archive of record: not an envelope, the "
        "canonical JSON of the rendered post itself, as the archive keeps it. Message key: its "
        "SHA-256 (hex), which the attempt's delivery.status names (payload_sha256). Written through "
        "each publisher's outbox with the attempt's `publishing` event; read by the archiver alone, "
        "which dead-letters to loa.payload.v1.dlq a value that does not hash to its key or is not "
        "a post, with the reason in the `loa-dlq-reason` header."
    ),
    schema=SentPost,
)

specification = AsyncAPI(
    broker,
    title="Loa events",
    version="1",
    description="Loa's Kafka contract: JSON envelopes with event id, type, schema version, "
    "occurred_at (zone aware), producer, correlation id and payload. All text is NFC.",
)
app = FastStream(broker, specification=specification)

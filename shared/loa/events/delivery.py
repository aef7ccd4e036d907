"""``loa.delivery.v1``: where one content stands on one channel account (key = content id)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from loa.events.constraints import Text
from loa.events.content import AccountName, ChannelName, ContentId
from loa.events.envelope import Envelope, Model
from loa.text import NfcStr, nfc, without_addresses

ERROR_MESSAGE_MAX = 2000
ERROR_EXCERPT_MAX = 4000
# A link shown to people (dashboard, website, `loa status`) is http(s) with a host, nothing else: a
# platform answer, a forged event or an adapter bug must not put ``javascript:`` or ``data:`` there.
WEB_LINK_PATTERN = r"^https?://[^\s/?#@]+([/?#][^\s]*)?$"
# Where a platform call went, host and port only (RFC 3986 reg-name, IPv4 or [IPv6], optional port):
# never a path, query or user info, which may carry a token.
HOST_PATTERN = r"^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$"
HOST_MAX = 300


class DeliveryState(StrEnum):
    RECEIVED = "received"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    RETRYING = "retrying"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"
    CANCELLED = "cancelled"
    RETRACTING = "retracting"
    RETRACTED = "retracted"
    RETRACT_FAILED = "retract_failed"
    HELD = "held"
    """Not sent while a hold covers it (``publishing.hold``); keeps its place until released."""

    @property
    def is_final(self) -> bool:
        """No further change happens without a new command or content event."""
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        DeliveryState.PUBLISHED,
        DeliveryState.FAILED,
        DeliveryState.CANCELLED,
        DeliveryState.RETRACTED,
        DeliveryState.RETRACT_FAILED,
    }
)


class ErrorClass(StrEnum):
    AUTH = "auth"
    """A human must act: token expired, permission missing."""
    TRANSIENT = "transient"
    """Retry later: 5xx, timeouts, rate limits."""
    PERMANENT = "permanent"
    """This post can never go as it is: too long, bad media."""


class RecipientState(StrEnum):
    """Where one recipient of a list stands (the e-mail channel: one SMTP transaction each)."""

    SENT = "sent"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    """Reported later by a feedback loop (RFC 5965); never the answer of a send."""


MAX_RECIPIENTS = 5000
"""The most recipients a list holds (``loa.press``) and one event reports."""
RECIPIENT_ID_PATTERN = r"^[0-9a-f]{16}$"
"""``loa.press.recipient_id``: the first 16 hex digits of the SHA-256 of the folded address."""
RECIPIENT_REPLY_MAX = 200
"""An SMTP reply line is at most 512 octets (RFC 5321 §4.5.3.1.5); its first words say why."""
RECIPIENT_REPLIES_BUDGET = 300_000
"""Characters of replies one event carries: 5,000 recipients (``MAX_RECIPIENTS``) with
full replies would pass Kafka's 1 MB record; beyond the budget, replies of ``sent`` go first."""
RecipientId = Annotated[str, Field(pattern=RECIPIENT_ID_PATTERN)]


class RecipientOutcome(Model):
    state: RecipientState
    code: Annotated[int, Field(ge=0, le=999)] | None = None
    reply: Annotated[NfcStr, Text(max_length=RECIPIENT_REPLY_MAX)] | None = None


class RecipientsReport(Model):
    """Per recipient of a list: its state, SMTP code and reply, keyed by the recipient id (a hash of
    the address, ``loa.press.recipient_id``: the event never carries an address)."""

    counts: dict[RecipientState, Annotated[int, Field(ge=0)]]
    recipients: Annotated[
        dict[RecipientId, RecipientOutcome],
        # keys other than an id are refused: the schema says so too (patternProperties alone lets them by)
        Field(max_length=MAX_RECIPIENTS, json_schema_extra={"additionalProperties": False}),
    ]


def recipients_report(states: Mapping[str, Mapping[str, Any]]) -> RecipientsReport:
    """The report of ``states`` (recipient id → ``{state, code, reply}``), addresses taken out of
    the replies (``loa.text.without_addresses``), replies cut to fit: each to
    ``RECIPIENT_REPLY_MAX``, and all to ``RECIPIENT_REPLIES_BUDGET``, those not ``sent`` first."""
    counts = dict.fromkeys(RecipientState, 0)
    for s in states.values():
        counts[RecipientState(s["state"])] += 1
    budget = RECIPIENT_REPLIES_BUDGET
    replies: dict[str, str | None] = {}
    for rid, s in sorted(states.items(), key=lambda item: item[1]["state"] == RecipientState.SENT):
        reply = without_addresses(nfc(str(s.get("reply") or "")))
        reply = reply if len(reply) <= RECIPIENT_REPLY_MAX else reply[: RECIPIENT_REPLY_MAX - 1] + "…"
        replies[rid] = reply if reply and len(reply) <= budget else None
        budget -= len(replies[rid] or "")
    outcomes = {
        rid: RecipientOutcome(state=s["state"], code=s.get("code"), reply=replies[rid])
        for rid, s in states.items()
    }
    return RecipientsReport(counts=counts, recipients=outcomes)


class DeliveryError(Model):
    error_class: ErrorClass
    code: Annotated[str, Field(max_length=100)] | None = None
    message: Annotated[NfcStr, Text(max_length=ERROR_MESSAGE_MAX)]
    excerpt: Annotated[NfcStr, Text(max_length=ERROR_EXCERPT_MAX)] | None = None


class Delivery(Model):
    """The state of one content version on one channel account."""

    content_id: ContentId
    version: Annotated[int, Field(ge=1)]
    channel: ChannelName
    account: AccountName
    state: DeliveryState
    attempt: Annotated[int, Field(ge=0)] = 0
    sequence: Annotated[int, Field(ge=1, description="per (content, channel, account), increasing")]
    due_at: AwareDatetime | None = None
    external_id: Annotated[str, Field(max_length=500)] | None = None
    public_url: Annotated[str, Field(max_length=2000, pattern=WEB_LINK_PATTERN)] | None = None
    error: DeliveryError | None = None
    note: Annotated[NfcStr, Text(max_length=500)] | None = None
    target_host: (
        Annotated[
            str,
            Field(
                max_length=HOST_MAX,
                pattern=HOST_PATTERN,
                description="host[:port] the platform call went to: the sandbox's in development",
            ),
        ]
        | None
    ) = None
    recipients: RecipientsReport | None = Field(
        default=None, description="a channel that sends to a list (e-mail): each recipient's outcome"
    )
    payload_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="SHA-256 of what was sent (the rendered post, loa.archive.payload), from the first "
        "attempt on; the archive keeps it as payloads/<sha256>.json",
    )

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.content_id, self.channel, self.account)


def delivery_id(content_id: str, channel: str, account: str) -> str:
    """The stable id of one delivery: content id, channel and account."""
    return f"{content_id}:{channel}:{account}"


class DeliveryStatus(Envelope):
    type: Literal["delivery.status"] = "delivery.status"
    payload: Delivery

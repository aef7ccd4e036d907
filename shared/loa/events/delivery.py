"""``loa.delivery.v1``: where one content stands on one channel account (key = content id)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from loa.events.constraints import Text
from loa.events.content import AccountName, ChannelName, ContentId
from loa.events.envelope import Envelope, Model
from loa.text import NfcStr

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

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.content_id, self.channel, self.account)


def delivery_id(content_id: str, channel: str, account: str) -> str:
    """The stable id of one delivery: content id, channel and account."""
    return f"{content_id}:{channel}:{account}"


class DeliveryStatus(Envelope):
    type: Literal["delivery.status"] = "delivery.status"
    payload: Delivery

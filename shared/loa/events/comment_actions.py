"""``comment.action`` on ``loa.delivery.v1``: how a publisher settled a reply to, or the moderation of,
a citizen's comment (key = content id).

A new ``type`` on the topic every publisher already writes (its status events' outbox): no new
producer, consumer group or ACL. The tracker moves the comment in its inbox; the listener, which
reads the topic for published posts, skips it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from loa.events.commands import ActionId, CommentId, Person
from loa.events.constraints import Text
from loa.events.content import AccountName, ChannelName, ContentId
from loa.events.delivery import ERROR_MESSAGE_MAX, DeliveryStatus
from loa.events.envelope import Envelope, Model
from loa.text import NfcStr


class CommentActionKind(StrEnum):
    REPLY = "reply"
    MODERATE = "moderate"


class CommentActionState(StrEnum):
    DONE = "done"
    FAILED = "failed"
    """The platform refused it, the channel has no such action, or the retries ran out."""


class CommentActionResult(Model):
    content_id: ContentId
    channel: ChannelName
    account: AccountName
    comment_id: CommentId
    action_id: ActionId
    kind: CommentActionKind
    state: CommentActionState
    requested_by: Person
    moderation: Annotated[str, Field(max_length=32)] | None = None
    """What moderating did on this channel: ``hidden`` (Facebook, X) or ``held_for_review`` (YouTube)."""
    reply_id: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    """The platform's id of the office's reply."""
    reply_text: Annotated[NfcStr, Text(max_length=10_000)] | None = None
    error: Annotated[NfcStr, Text(max_length=ERROR_MESSAGE_MAX)] | None = None
    """Why it failed, one line a person understands (never a token)."""


class CommentActionSettled(Envelope):
    type: Literal["comment.action"] = "comment.action"
    payload: CommentActionResult


DeliveryEvent: TypeAlias = Annotated[DeliveryStatus | CommentActionSettled, Field(discriminator="type")]
"""What ``loa.delivery.v1`` carries."""

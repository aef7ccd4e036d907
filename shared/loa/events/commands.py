"""``loa.commands.v1``: what ops ask publishers to do (key = content id; a hold's: the hold id).

Retracting a content everywhere is not a command: it is a ``content.retracted`` event on
``loa.content.v1``, whoever asks for it (the ingest API, the tracker, the CLI).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, JsonValue, model_validator

from loa.events.constraints import Text, add_description, beyond_schema
from loa.events.content import AccountName, ChannelName, ContentId, PlainText
from loa.events.envelope import Envelope, Model
from loa.text import NfcStr


class DeliveryRef(Model):
    content_id: ContentId
    channel: ChannelName
    account: AccountName
    requested_by: Annotated[NfcStr, Text(min_length=1, max_length=200)]
    reason: Annotated[NfcStr, Text(max_length=2000)] = ""


class RetryDelivery(Envelope):
    """Try a failed, parked or retrying delivery again now."""

    type: Literal["delivery.retry"] = "delivery.retry"
    payload: DeliveryRef


class CancelDelivery(Envelope):
    """Stop a delivery that has not gone yet."""

    type: Literal["delivery.cancel"] = "delivery.cancel"
    payload: DeliveryRef


class ReleaseDelivery(Envelope):
    """A delivery whose time passed during a hold: send it now (``at`` empty) or at ``at``.

    Ops' choice for each late item after a release; the third choice is ``delivery.cancel``.
    """

    type: Literal["delivery.release"] = "delivery.release"
    payload: DeliveryRef
    at: AwareDatetime | None = None


class RescheduleDelivery(Envelope):
    """Move a scheduled delivery, not yet sent and not held, to ``at`` (the planning calendar's drag).

    A publisher applies it only to a delivery still ``scheduled`` that the platform does not hold
    (not natively scheduled); anything else is logged and left as it is.
    """

    type: Literal["delivery.reschedule"] = "delivery.reschedule"
    payload: DeliveryRef
    at: AwareDatetime


HoldId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Unit = Annotated[PlainText, Text(min_length=1, max_length=200)]
Person = Annotated[NfcStr, Text(min_length=1, max_length=200)]
HoldReason = Annotated[PlainText, Text(min_length=1, max_length=2000)]
"""Why publishing is held: required, shown on the dashboard and in every held delivery's note."""

LATE_NOTE = "its time passed during the hold: send it now, reschedule it or cancel it"
"""The note of a held delivery a release left for ops (its own time passed during the hold). The
publisher that decides it (``loa.publisher.holds``) writes it; the tracker lists by it."""


class Hold(Model):
    """Stop sending what has not gone yet: everything, or what a unit, a channel or an account has.

    Every scope field left empty widens the hold; all empty: every delivery of every channel.
    ``account`` names an account on ``channel`` (on every channel when ``channel`` is empty).
    """

    hold_id: HoldId
    unit: Unit | None = None
    channel: ChannelName | None = None
    account: AccountName | None = None
    requested_by: Person
    reason: HoldReason

    def covers(self, channel: str, account: str, unit: str | None) -> bool:
        """Whether this hold keeps a delivery to ``account`` on ``channel`` of a content of ``unit``
        (the one rule: the publishers and the tracker's list of late items both ask it)."""
        return (
            (self.channel is None or self.channel == channel)
            and (self.account is None or self.account == account)
            and (self.unit is None or self.unit == unit)
        )


class HoldRelease(Model):
    hold_id: HoldId
    requested_by: Person
    reason: Annotated[NfcStr, Text(max_length=2000)] = ""


class HoldPublishing(Envelope):
    """Hold every not-yet-published delivery in the scope (key = hold id)."""

    type: Literal["publishing.hold"] = "publishing.hold"
    payload: Hold


class ReleasePublishing(Envelope):
    """End a hold: what it held goes in its original order, save items whose time passed (key = hold id)."""

    type: Literal["publishing.release"] = "publishing.release"
    payload: HoldRelease


SealedCredentials = Annotated[str, Field(min_length=1, max_length=65_536, pattern=r"^[A-Za-z0-9_=-]+$")]
"""A Fernet token under ``LOA_CREDENTIALS_KEY`` (``loa.publisher.sealing.seal_for_transit``):
the credentials never travel in clear, and the token opens only for the account it names."""


class AccountRef(Model):
    channel: ChannelName
    account: AccountName
    requested_by: Person


class AccountSettings(AccountRef):
    """Add the account, or change it: options and credentials merge into the stored ones unless
    ``replace``; ``credentials`` absent keeps the stored ones."""

    options: dict[str, JsonValue] = Field(default_factory=dict)
    credentials: SealedCredentials | None = None
    replace: bool = False


class SetAccount(Envelope):
    """Add or change a channel account in its publisher's store (key = ``channel/account``)."""

    type: Literal["account.set"] = "account.set"
    payload: AccountSettings


class RemoveAccount(Envelope):
    """Remove a channel account (key = ``channel/account``); its jobs wait until it is back."""

    type: Literal["account.remove"] = "account.remove"
    payload: AccountRef


def account_key(channel: str, account: str) -> str:
    """The Kafka key of an account's commands: one partition, so they apply in order."""
    return f"{channel}/{account}"


REPLY_MAX: dict[str, int] = {
    # Facebook: 8,000 characters is the comment length widely reported; Meta's Comment reference
    # (developers.facebook.com/docs/graph-api/reference/comment) names no figure: not verified.
    "facebook": 8000,
    # YouTube: `snippet.textOriginal` of a comment, 10,000 characters (YouTube Data API, comments
    # resource, developers.google.com/youtube/v3/docs/comments; longer answers `commentTextTooLong`).
    "youtube": 10_000,
    # X: a post is 280 weighted characters (docs.x.com counting characters); code points are an
    # upper bound here, the X publisher counts the weights (twitter-text) before it calls.
    "x": 280,
}
"""The longest reply each channel takes, in code points after NFC. A channel not listed here has no
comment actions: its publisher refuses them and says why (``loa.publisher.comment_actions``)."""

ActionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$")]
"""One operator's act on one comment: a redelivered or replayed command with the same id is done once."""
CommentId = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[A-Za-z0-9._:-]+$")]
"""The platform's id of the comment (Graph ``<post>_<comment>``, YouTube's comment id, X's post id)."""


class CommentRef(Model):
    """A citizen's comment on one of the office's posts, and who acts on it."""

    content_id: ContentId
    channel: ChannelName
    account: AccountName
    comment_id: CommentId
    action_id: ActionId
    requested_by: Person


class CommentReply(CommentRef):
    """Reply as the office's account under the comment."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: add_description(
            schema, beyond_schema("text at most the channel's reply length (REPLY_MAX), after NFC")
        )
    )

    text: Annotated[NfcStr, Text(min_length=1, max_length=10_000)]

    @model_validator(mode="after")
    def _within_the_channel_limit(self) -> CommentReply:
        limit = REPLY_MAX.get(self.channel)
        if limit is not None and len(self.text) > limit:
            raise ValueError(
                f"text: {len(self.text)} characters, {self.channel} takes a reply of at most {limit}"
            )
        if not self.text.strip():
            raise ValueError("text: a reply needs some text")
        return self


class ReplyToComment(Envelope):
    """Reply to a citizen's comment as the office's account (key = content id)."""

    type: Literal["comment.reply"] = "comment.reply"
    payload: CommentReply


class ModerateComment(Envelope):
    """Take a comment out of public view (key = content id): Facebook hides it (only its author and
    their friends see it), YouTube holds it for review, X hides the reply."""

    type: Literal["comment.moderate"] = "comment.moderate"
    payload: CommentRef


DeliveryCommand = RetryDelivery | CancelDelivery | ReleaseDelivery | RescheduleDelivery
HoldCommand = HoldPublishing | ReleasePublishing
AccountCommand = SetAccount | RemoveAccount
CommentCommand = ReplyToComment | ModerateComment
Command = Annotated[
    DeliveryCommand | HoldCommand | AccountCommand | CommentCommand, Field(discriminator="type")
]

"""``loa.audit.v1``: one act of a person or service account, on its way to the tracker's audit log.

The ingest emits these through its outbox; the tracker (group ``loa-tracker-audit``) chains them
into its ``audit_log`` with what it records itself. The tracker is the log's only writer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from loa.events.constraints import Text
from loa.events.content import AccountName, ContentId, PlainText
from loa.events.envelope import Envelope, Model
from loa.text import NfcStr


class AuditAction(StrEnum):
    """What was done. One list for every service; the dashboard's filter offers these."""

    SUBMIT = "submit"
    UPDATE = "update"
    APPROVE = "approve"
    REJECT = "reject"
    RETRACT = "retract"
    RETRY = "retry"
    CANCEL = "cancel"
    HOLD = "hold"
    RELEASE = "release"
    RESCHEDULE = "reschedule"
    MEDIA_UPLOAD = "media_upload"
    ACCOUNT_CHANGE = "account_change"
    TOKEN_ISSUED = "token_issued"  # noqa: S105 (an action name, not a secret)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 (an action name, not a secret)
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    EXPORT = "export"
    INCIDENT_OPEN = "incident_open"
    INCIDENT_NOTE = "incident_note"
    INCIDENT_CLOSE = "incident_close"
    PRESS_LIST_CHANGE = "press_list_change"
    COMMENT_STATE = "comment_state"
    COMMENT_REPLY = "comment_reply"
    """A reply to a citizen's comment sent to the channel's publisher (the outcome is the comment's)."""
    COMMENT_MODERATE = "comment_moderate"
    """A comment's hiding (Facebook, X) or hold for review (YouTube) sent to the channel's publisher."""
    WATCHLIST_CHANGE = "watchlist_change"


class AuditOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"


class ActorKind(StrEnum):
    """``loa.access.Kind``'s values: the contract does not import the access module."""

    PERSON = "person"
    SERVICE = "service"


Name = Annotated[NfcStr, Text(min_length=1, max_length=200)]
Short = Annotated[NfcStr, Text(max_length=200)]


class AuditEntry(Model):
    """Who did what, on what, from where, and whether Loa let them."""

    actor: Name
    """The principal's stable name (a person's e-mail, a service account's name)."""
    actor_kind: ActorKind
    address: Annotated[NfcStr, Text(max_length=100)] = ""
    """The client address the request came from."""
    action: AuditAction
    outcome: AuditOutcome = AuditOutcome.OK
    reason: Annotated[PlainText, Field(max_length=2000)] = ""
    """Why it was refused, or the reason the actor gave (a retraction's)."""
    content_id: ContentId | None = None
    version: Annotated[int, Field(ge=1)] | None = None
    delivery_id: Annotated[NfcStr, Text(max_length=400)] | None = None
    account: AccountName | None = None
    unit: Short | None = None
    detail: Annotated[NfcStr, Text(max_length=500)] = ""
    """What else identifies the object: a media key, an export's filters."""


class AuditRecorded(Envelope):
    """An act to append to the audit log. Message key: the actor's name."""

    type: Literal["audit.recorded"] = "audit.recorded"
    payload: AuditEntry

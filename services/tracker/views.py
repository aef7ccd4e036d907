"""The API's response and request models (what OpenAPI publishes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, JsonValue, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from loa.events import DeliveryState, ErrorClass, Priority
from loa.events.commands import HoldReason, Unit
from loa.events.content import AccountName, ChannelName, RetractReason
from loa.text import NfcStr


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    """Every error the API returns: a stable code, a message, and the fields at fault."""

    error: ErrorBody


class LastError(BaseModel):
    error_class: ErrorClass
    code: str | None
    message: str | None


class DeliveryOut(BaseModel):
    id: str
    content_id: str
    channel: str
    account: str
    version: int
    state: DeliveryState
    sequence: int
    attempt: int
    due_at: datetime | None
    state_at: datetime
    published_at: datetime | None
    external_id: str | None
    public_url: str | None
    target_host: str | None = Field(
        default=None, description="host[:port] the platform call went to (the sandbox's in development)"
    )
    last_error: LastError | None
    note: str | None
    unit: str | None = None
    title: str | None = None
    priority: Priority = Field(
        default=Priority.NORMAL, description="its content's: urgent goes before any normal backlog (Khẩn)"
    )
    approved_at: datetime | None = Field(
        default=None, description="when its content was approved (approval → published_at is its latency)"
    )


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(description="delivery.status, content.approved, delivery.retry, ...")
    actor: str | None = None
    channel: str | None = None
    account: str | None = None
    state: DeliveryState | None = None
    attempt: int | None = None
    sequence: int | None = None
    external_id: str | None = None
    public_url: str | None = None
    error_class: ErrorClass | None = None
    error_code: str | None = None
    message: str | None = None
    excerpt: str | None = None


class ContentSummary(BaseModel):
    id: str
    title: str | None
    unit: str | None
    version: int | None
    approved_by: str | None
    approved_at: datetime | None
    publish_at: datetime | None
    retracted_at: datetime | None
    priority: Priority = Field(default=Priority.NORMAL, description="urgent: the urgent lane (Khẩn)")
    states: dict[str, int] = Field(description="how many deliveries are in each state")


class CorrectionLink(BaseModel):
    """A content linked by a correction: the one it corrects, or one correcting it (with its
    deliveries: on each channel the correction and its link to the original are deliveries of it)."""

    id: str
    title: str | None = Field(description="none if the tracker has not seen it, or it is another unit's")
    approved_at: datetime | None = None
    retracted_at: datetime | None = None
    deliveries: list[DeliveryOut] = Field(default_factory=list)


class ContentDetail(ContentSummary):
    approver_claim: str | None = Field(
        default=None, description="the approver the content system says it recorded: a claim, not checked"
    )
    kind: str | None
    canonical_url: str | None
    retracted_by: str | None
    retract_reason: str | None
    deliveries: list[DeliveryOut]
    timeline: list[TimelineEntry]
    corrects: CorrectionLink | None = Field(default=None, description="the content this correction corrects")
    corrected_by: list[CorrectionLink] = Field(
        default_factory=list, description="the corrections of this content (of units the caller may read)"
    )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class GroupStats(BaseModel):
    key: str
    total: int
    counts: dict[str, int]
    published: int
    on_time: int
    on_time_rate: float | None = Field(description="published within the on-time window of the due time")
    latency_p50_s: float | None
    latency_p95_s: float | None


class FailureCause(BaseModel):
    channel: str
    error_class: str
    code: str | None
    count: int
    example: str | None


class Stats(BaseModel):
    since: datetime | None
    until: datetime | None
    on_time_window_s: float
    by_channel: list[GroupStats]
    by_unit: list[GroupStats]
    failure_causes: list[FailureCause]


class ActionRequest(BaseModel):
    reason: Annotated[NfcStr, Field(max_length=2000)] = ""


class RetractRequest(BaseModel):
    # the event's own rule: a reason the event would refuse was a 500 when the event was made
    reason: RetractReason


class HoldRequest(BaseModel):
    """Hold every not-yet-published delivery: all (no scope field), or of a unit, a channel, an account."""

    reason: HoldReason
    unit: Unit | None = None
    channel: ChannelName | None = None
    account: AccountName | None = Field(
        default=None, description="an account of `channel` (required with it)"
    )

    @field_validator("reason")
    @classmethod
    def _says_why(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why publishing is held (Vietnamese is fine)")
        return value.strip()

    @model_validator(mode="after")
    def _account_on_a_channel(self) -> HoldRequest:
        if self.account is not None and self.channel is None:
            raise PydanticCustomError("account_without_channel", "account: name its channel too")
        return self


class HoldOut(BaseModel):
    id: str
    unit: str | None
    channel: str | None
    account: str | None
    reason: str
    held_by: str
    held_at: datetime
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None


class LateDecision(BaseModel):
    """What to do with a delivery whose time passed during a hold."""

    action: Literal["send_now", "reschedule", "cancel"]
    at: AwareDatetime | None = Field(default=None, description="the new time (reschedule only)")
    reason: Annotated[NfcStr, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _time_with_reschedule(self) -> LateDecision:
        if (self.action == "reschedule") != (self.at is not None):
            raise PydanticCustomError("at", "at: a new time goes with reschedule, and only with it")
        return self


class RescheduleRequest(BaseModel):
    """A new time for a scheduled delivery (the planning calendar's drag, or its "Dời lịch" form)."""

    at: AwareDatetime = Field(description="the new time, with its offset (the calendar sends +07:00)")
    reason: Annotated[NfcStr, Field(max_length=2000)] = ""


class ActionAccepted(BaseModel):
    command_id: str
    type: str
    topic: str
    key: str


def as_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


CredentialName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class AccountUnitOut(BaseModel):
    """Which unit a channel account belongs to: what the ingest checks a content's targets against."""

    channel: str
    name: str
    unit: str | None


class AccountOut(BaseModel):
    """A channel account as ops see it: which credentials are set, never their values."""

    channel: str
    name: str
    unit: str | None
    options: dict[str, Any]
    credential_names: list[str]
    expires_at: datetime | None
    expired: bool
    parked: bool
    refresh_token: bool = False
    """A refresh token is stored: the publisher renews the access token itself."""
    """A platform refused its credentials since its last change: it publishes nothing until fixed."""
    version: int
    updated_by: str
    updated_at: datetime


class AccountFields(BaseModel):
    """Credentials are write-only: given here, sent sealed to the publisher, never shown again."""

    model_config = {"extra": "forbid"}

    unit: Unit | None = None
    credentials: dict[CredentialName, SecretStr] = Field(default_factory=dict, max_length=20)
    options: dict[str, JsonValue] = Field(default_factory=dict, max_length=50)
    expires_at: AwareDatetime | None = Field(default=None, description="when the token stops working")


class AccountIn(AccountFields):
    channel: ChannelName
    name: AccountName


class AccountUpdate(AccountFields):
    replace: bool = Field(default=False, description="replace credentials/options instead of merging")

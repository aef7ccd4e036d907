"""``loa.content.v1``: a content is approved, updated or retracted (key = content id)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, Field, HttpUrl, field_validator, model_validator

from loa.events.envelope import Envelope, Model, utcnow
from loa.html import find_unsafe_markup, sanitize_body
from loa.text import NfcStr, strip_invisible

DEFAULT_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""The zone people mean when they write a time without one (documented, never assumed on the wire)."""

MAX_SCHEDULE_AHEAD = timedelta(days=366)
PUBLISH_AT_PAST_TOLERANCE = timedelta(hours=1)
"""How far before its approval (or, at the ingest API, before now) a first publication's
``publish_at`` may lie: a time a few minutes old is normal (approval just happened, Kafka lag); one
older than this would go out at once under an old date (issue #25: 2020 → a ``/2020/01/...`` URL)."""
MEDIA_KEY = re.compile(r"^sha256/[0-9a-f]{64}$")
ContentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
ChannelName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]  # "x" is a channel
AccountName = Annotated[NfcStr, Field(min_length=1, max_length=100, pattern=r"^[^\s/]+$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(value: str) -> str:
    """Drop bidi controls and zero-width characters; refuse control characters and executable markup."""
    visible = strip_invisible(value)
    if value and not visible:
        raise ValueError("contains only invisible characters (bidi controls or zero-width)")
    value = visible
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    unsafe = find_unsafe_markup(value)
    if unsafe is not None:
        raise ValueError(f"contains executable markup: {unsafe!r}")
    return value


PlainText = Annotated[NfcStr, AfterValidator(_plain_text)]
"""Text shown as is on a channel: NFC, no bidi controls or zero-width characters (ZWJ kept inside
emoji), no control characters, no executable markup."""


class ContentKind(StrEnum):
    NEWS = "news"
    PRESS_RELEASE = "press_release"
    ANNOUNCEMENT = "announcement"
    VIDEO = "video"


class MediaRef(Model):
    """A media object stored in MinIO under its content address."""

    key: Annotated[str, Field(pattern=MEDIA_KEY.pattern, description="sha256/<hex> in the media bucket")]
    sha256: Sha256Hex
    content_type: Annotated[str, Field(pattern=r"^(image|video)/[a-z0-9.+-]+$")]
    size: Annotated[int, Field(gt=0)]
    width: Annotated[int, Field(gt=0)] | None = None
    height: Annotated[int, Field(gt=0)] | None = None
    duration_s: Annotated[float, Field(gt=0)] | None = None
    alt: Annotated[PlainText, Field(max_length=1000)] = ""
    caption: Annotated[PlainText, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _key_is_the_hash(self) -> MediaRef:
        if self.key != f"sha256/{self.sha256}":
            raise ValueError("key must be sha256/<the media's sha256>")
        return self

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")


class Target(Model):
    """One place to publish: a channel and one of its accounts, with optional overrides."""

    channel: ChannelName
    account: AccountName
    title: Annotated[PlainText, Field(min_length=1, max_length=1000)] | None = None
    text: Annotated[PlainText, Field(min_length=1, max_length=100_000)] | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class Content(Model):
    """An approved piece of content, as every channel receives it."""

    id: ContentId
    version: Annotated[int, Field(ge=1, description="monotonic per content id")]
    title: Annotated[PlainText, Field(min_length=1, max_length=500)]
    summary: Annotated[PlainText, Field(max_length=5000)] = ""
    body: Annotated[NfcStr, Field(max_length=2_000_000, description="sanitised HTML")] = ""
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = "vi"
    tags: Annotated[
        list[Annotated[PlainText, Field(min_length=1, max_length=100)]], Field(max_length=50)
    ] = []
    unit: Annotated[PlainText, Field(min_length=1, max_length=200, description="the owning department")]
    kind: ContentKind = ContentKind.NEWS
    approved_by: Annotated[PlainText, Field(min_length=1, max_length=200)]
    approved_at: AwareDatetime
    media: Annotated[list[MediaRef], Field(max_length=50)] = []
    targets: Annotated[list[Target], Field(min_length=1, max_length=100)]
    publish_at: AwareDatetime | None = None
    backdated: bool = Field(
        default=False,
        description="publish at once under a publish_at more than an hour before approval, on purpose "
        "(e.g. an archive import); otherwise such a content.approved is refused",
    )
    canonical_url: HttpUrl | None = None

    @field_validator("body")
    @classmethod
    def _body_is_safe(cls, body: str) -> str:
        return sanitize_body(body)

    @field_validator("publish_at")
    @classmethod
    def _publish_at_within_a_year(cls, value: datetime | None) -> datetime | None:
        # Naive times never get here: ``AwareDatetime`` refuses them ("Input should have
        # timezone info"); people's tools apply ``DEFAULT_TIMEZONE`` before sending.
        if value is not None and value - utcnow() > MAX_SCHEDULE_AHEAD:
            raise ValueError(f"must be at most {MAX_SCHEDULE_AHEAD.days} days ahead")
        return value

    @field_validator("tags")
    @classmethod
    def _tags_unique(cls, tags: list[str]) -> list[str]:
        if len({t.casefold() for t in tags}) != len(tags):
            raise ValueError("tags must be unique")
        return tags

    @model_validator(mode="after")
    def _targets_unique(self) -> Content:
        seen = {(t.channel, t.account) for t in self.targets}
        if len(seen) != len(self.targets):
            raise ValueError("targets: each channel + account may appear once")
        return self

    def targets_of(self, channel: str) -> list[Target]:
        return [t for t in self.targets if t.channel == channel]


def publish_at_problem(content: Content, reference: datetime, reference_name: str) -> str | None:
    """Why a first publication's ``publish_at`` is refused (too far before ``reference``), or None.

    Consumers compare with the event's own ``approved_at`` (the same answer on every replay); the
    ingest API with now."""
    publish_at = content.publish_at
    if publish_at is None or content.backdated or publish_at >= reference - PUBLISH_AT_PAST_TOLERANCE:
        return None
    hours = (reference - publish_at).total_seconds() / 3600
    return (
        f"publish_at {publish_at.isoformat()} is {hours:,.1f} hours before {reference_name}: it would go out "
        f"at once under an old date; send a current time, none, or backdated: true to mean it"
    )


class Retraction(Model):
    """Take a content down everywhere."""

    id: ContentId
    reason: Annotated[PlainText, Field(min_length=1, max_length=2000)]
    requested_by: Annotated[PlainText, Field(min_length=1, max_length=200)]


class ContentApproved(Envelope):
    type: Literal["content.approved"] = "content.approved"
    payload: Content

    @model_validator(mode="after")
    def _not_backdated_by_mistake(self) -> ContentApproved:
        # Only a first publication: an update keeps the original publish_at, often long past.
        problem = publish_at_problem(self.payload, self.payload.approved_at, "approved_at")
        if problem is not None:
            raise ValueError(problem)
        return self


class ContentUpdated(Envelope):
    type: Literal["content.updated"] = "content.updated"
    payload: Content


class ContentRetracted(Envelope):
    type: Literal["content.retracted"] = "content.retracted"
    payload: Retraction


ContentEvent = Annotated[ContentApproved | ContentUpdated | ContentRetracted, Field(discriminator="type")]

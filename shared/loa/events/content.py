"""``loa.content.v1``: a content is approved, updated or retracted (key = content id)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)

from loa.events.constraints import SchemaPattern, Text, add_description, beyond_schema
from loa.events.envelope import Envelope, Model, type_is_required, utcnow
from loa.html import sanitize_body
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
AccountName = Annotated[NfcStr, Text(min_length=1, max_length=100, pattern=r"^[^\s/]+$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
INVISIBLE_RULE = (
    "bidi controls and zero-width characters are removed (ZWJ inside emoji kept) before the length is "
    "counted; a value of only such characters is refused"
)


def _plain_text(value: str) -> str:
    """Drop bidi controls and zero-width characters; refuse control characters (markup-like text is
    text: escaped on output)."""
    visible = strip_invisible(value)
    if value and not visible:
        raise ValueError("contains only invisible characters (bidi controls or zero-width)")
    value = visible
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    return value


PlainText = Annotated[
    NfcStr, AfterValidator(_plain_text), SchemaPattern(f"^[^{_CONTROL_CHARS}]*$", rules=(INVISIBLE_RULE,))
]
"""Text shown as is on a channel: NFC, no bidi controls or zero-width characters (ZWJ kept inside
emoji), no control characters; ``<``, ``=`` and ``javascript:`` are
prose here, escaped by whatever renders it into HTML."""

HtmlBody = Annotated[
    NfcStr,
    AfterValidator(sanitize_body),
    Text(
        max_length=2_000_000,
        counted="after NFC normalisation and sanitising",
        description="sanitised HTML.",
        rules=("no executable markup (scripts, event handlers, javascript: links)",),
    ),
]
"""An HTML body as stored: executable markup refused, the rest cut to the allow-list, and then
limited, so that sanitising (which escapes ``<`` and adds ``rel``) never grows it past its limit."""


class ContentKind(StrEnum):
    NEWS = "news"
    PRESS_RELEASE = "press_release"
    ANNOUNCEMENT = "announcement"
    VIDEO = "video"
    CORRECTION = "correction"
    """Đính chính: corrects an earlier content (``corrects``); each channel links the two."""


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    """Claimed before any normal backlog, with a reserved share of each account's rate budget."""


class MediaRef(Model):
    """A media object stored in MinIO under its content address."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: add_description(schema, beyond_schema("key is sha256/<sha256>"))
    )

    key: Annotated[str, Field(pattern=MEDIA_KEY.pattern, description="sha256/<hex> in the media bucket")]
    sha256: Sha256Hex
    content_type: Annotated[str, Field(pattern=r"^(image|video)/[a-z0-9.+-]+$")]
    size: Annotated[int, Field(gt=0)]
    width: Annotated[int, Field(gt=0)] | None = None
    height: Annotated[int, Field(gt=0)] | None = None
    duration_s: Annotated[float, Field(gt=0)] | None = None
    alt: Annotated[PlainText, Text(max_length=1000)] = ""
    caption: Annotated[PlainText, Text(max_length=2000)] = ""

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
    title: Annotated[PlainText, Text(min_length=1, max_length=1000)] | None = None
    text: Annotated[PlainText, Text(min_length=1, max_length=100_000)] | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class Content(Model):
    """An approved piece of content, as every channel receives it."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: add_description(
            schema, beyond_schema("corrects given exactly when kind is correction, never the id itself")
        )
    )

    id: ContentId
    version: Annotated[int, Field(ge=1, description="monotonic per content id")]
    title: Annotated[PlainText, Text(min_length=1, max_length=500)]
    summary: Annotated[PlainText, Text(max_length=5000)] = ""
    body: HtmlBody = ""
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = "vi"
    tags: Annotated[
        list[Annotated[PlainText, Text(min_length=1, max_length=100)]],
        Field(
            max_length=50,
            json_schema_extra={"uniqueItems": True},
            description=beyond_schema("tags unique ignoring case, after NFC"),
        ),
    ] = []
    unit: Annotated[PlainText, Text(min_length=1, max_length=200, description="The owning department.")]
    kind: ContentKind = ContentKind.NEWS
    corrects: Annotated[
        ContentId | None,
        Field(
            description=beyond_schema(
                "the id of the content this one corrects: required when kind is correction, refused "
                "otherwise, never the content's own id"
            )
        ),
    ] = None
    priority: Annotated[
        Priority,
        Field(description="urgent: claimed before any normal backlog, with a reserved share of each budget"),
    ] = Priority.NORMAL
    approved_by: Annotated[
        PlainText,
        Text(
            min_length=1,
            max_length=200,
            description="Who approved it, as Loa authenticated them: the service account or the person "
            "signed in; never a name a client typed",
        ),
    ]
    approver_claim: (
        Annotated[
            PlainText,
            Text(
                min_length=1,
                max_length=200,
                description="The approver a content system says it recorded: a claim passed on, not checked",
            ),
        ]
        | None
    ) = None
    approved_at: AwareDatetime
    media: Annotated[list[MediaRef], Field(max_length=50)] = []
    targets: Annotated[
        list[Target],
        Field(
            min_length=1,
            max_length=100,
            json_schema_extra={"uniqueItems": True},
            description=beyond_schema("each channel + account pair at most once"),
        ),
    ]
    publish_at: Annotated[
        AwareDatetime | None,
        Field(description=beyond_schema(f"at most {MAX_SCHEDULE_AHEAD.days} days ahead")),
    ] = None
    backdated: bool = Field(
        default=False,
        description="publish at once under a publish_at more than an hour before approval, on purpose "
        "(e.g. an archive import); otherwise such a content.approved is refused",
    )
    canonical_url: Annotated[
        HttpUrl | None, Field(description=beyond_schema("an http or https URL with a host"))
    ] = None

    @field_validator("publish_at")
    @classmethod
    def _publish_at_within_a_year(cls, value: datetime | None) -> datetime | None:
        # Naive times never get here: ``AwareDatetime`` refuses them ("Input should have
        # timezone info"); people's tools apply ``DEFAULT_TIMEZONE`` before sending.
        if value is not None and value - utcnow() > MAX_SCHEDULE_AHEAD:
            raise ValueError(f"must be at most {MAX_SCHEDULE_AHEAD.days} days ahead")
        return value

    @model_validator(mode="after")
    def _corrects_only_corrections(self) -> Content:
        if self.kind == ContentKind.CORRECTION and self.corrects is None:
            raise ValueError("corrects: required when kind is correction (the id of the content corrected)")
        if self.kind != ContentKind.CORRECTION and self.corrects is not None:
            raise ValueError("corrects: only a content of kind correction corrects another")
        if self.corrects == self.id:
            raise ValueError("corrects: a content cannot correct itself")
        return self

    @field_validator("tags")
    @classmethod
    def _tags_unique(cls, tags: list[str]) -> list[str]:
        if len({t.casefold() for t in tags}) != len(tags):
            raise ValueError("tags must be unique")
        return tags

    @field_validator("targets")
    @classmethod
    def _targets_unique(cls, targets: list[Target]) -> list[Target]:
        if len({(t.channel, t.account) for t in targets}) != len(targets):
            raise ValueError("each channel + account may appear once")
        return targets

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


RetractReason = Annotated[PlainText, Text(min_length=1, max_length=2000)]
"""Why a content is taken down: the one rule for every door a retraction comes in by."""


class Retraction(Model):
    """Take a content down everywhere."""

    id: ContentId
    reason: RetractReason
    requested_by: Annotated[PlainText, Text(min_length=1, max_length=200)]


def _approved_schema(schema: dict[str, Any]) -> None:
    """The envelope's own schema rule (``type`` required), and the cross-field rule JSON Schema
    cannot express (a config's ``json_schema_extra`` replaces the envelope's, so both are here)."""
    type_is_required(schema)
    add_description(
        schema,
        beyond_schema(
            "payload.publish_at no more than an hour before payload.approved_at unless payload.backdated"
        ),
    )


class ContentApproved(Envelope):
    model_config = ConfigDict(json_schema_extra=lambda schema: _approved_schema(schema))

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

"""Hypothesis strategies for every Loa event, with Vietnamese text (NFC and NFD)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from loa.events import (
    CancelDelivery,
    Content,
    ContentApproved,
    ContentKind,
    ContentRetracted,
    ContentUpdated,
    Delivery,
    DeliveryError,
    DeliveryState,
    DeliveryStatus,
    ErrorClass,
    MediaRef,
    Priority,
    Retraction,
    RetryDelivery,
    Target,
)
from loa.events.commands import (
    DeliveryRef,
    Hold,
    HoldPublishing,
    HoldRelease,
    ReleaseDelivery,
    ReleasePublishing,
    RescheduleDelivery,
)
from loa.events.content import PUBLISH_AT_PAST_TOLERANCE

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵĐ"
LETTERS = VIETNAMESE + VIETNAMESE.upper() + " 0123456789.,;:!?()-–\"'/%&\n"


def _text(min_size: int = 0, max_size: int = 80) -> st.SearchStrategy[str]:
    base = st.text(alphabet=LETTERS, min_size=min_size, max_size=max_size)
    # sometimes decomposed, as some editors save it: the model must normalise it
    return st.one_of(base, base.map(lambda s: unicodedata.normalize("NFD", s))).filter(
        lambda s: len(s) >= min_size and len(s) <= max_size
    )


texts = _text
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,30}\Z")
channels = st.sampled_from(["website", "facebook", "zalo", "youtube", "x", "webhook"])
accounts = st.from_regex(r"\A[a-z0-9_.-]{1,20}\Z")
sha = st.from_regex(r"\A[0-9a-f]{64}\Z")
aware = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
soon = st.integers(min_value=-3600, max_value=300 * 86400).map(
    lambda s: datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=s)
)


@st.composite
def media_refs(draw: st.DrawFn) -> MediaRef:
    digest = draw(sha)
    image = draw(st.booleans())
    return MediaRef(
        key=f"sha256/{digest}",
        sha256=digest,
        content_type="image/jpeg" if image else "video/mp4",
        size=draw(st.integers(1, 2**31)),
        width=draw(st.none() | st.integers(1, 8000)),
        height=draw(st.none() | st.integers(1, 8000)),
        duration_s=None if image else draw(st.none() | st.floats(0.1, 3600, allow_nan=False)),
        alt=draw(texts(0, 100)),
        caption=draw(texts(0, 100)),
    )


@st.composite
def contents(draw: st.DrawFn) -> Content:
    targets = draw(st.lists(st.tuples(channels, accounts), min_size=1, max_size=5, unique=True))
    paragraphs = draw(st.lists(texts(1, 200), max_size=4))
    tags = draw(
        st.lists(texts(1, 30), max_size=5, unique_by=lambda t: unicodedata.normalize("NFC", t).casefold())
    )
    fields: dict[str, Any] = {
        "id": draw(ids),
        "version": draw(st.integers(1, 10_000)),
        "title": draw(texts(1, 200).filter(str.strip)),
        "summary": draw(texts(0, 300)),
        "body": "".join(f"<p>{p}</p>" for p in paragraphs),
        "tags": tags,
        "unit": draw(texts(1, 100)),
        "kind": draw(st.sampled_from(list(ContentKind))),
        "priority": draw(st.sampled_from(list(Priority))),
        "approved_by": draw(texts(1, 50)),
        "approved_at": draw(aware),
        "media": draw(st.lists(media_refs(), max_size=3)),
        "targets": [Target(channel=c, account=a) for c, a in targets],
        "publish_at": draw(st.none() | soon),
        "canonical_url": draw(st.none() | ids.map(lambda i: f"https://bo.gov.vn/tin/{i}.html")),
    }
    if fields["kind"] == ContentKind.CORRECTION:  # a correction names another content
        fields["corrects"] = draw(ids.filter(lambda i: i != fields["id"]))
    if fields["publish_at"] is not None:  # approved no later than an hour after its time (else refused)
        fields["approved_at"] = min(fields["approved_at"], fields["publish_at"] + PUBLISH_AT_PAST_TOLERANCE)
    return Content.model_validate(fields)


@st.composite
def deliveries(draw: st.DrawFn) -> DeliveryStatus:
    error = draw(
        st.none()
        | st.builds(
            DeliveryError,
            error_class=st.sampled_from(list(ErrorClass)),
            code=st.none() | st.from_regex(r"\A[0-9]{1,5}\Z"),
            message=texts(0, 200),
        )
    )
    delivery = Delivery(
        content_id=draw(ids),
        version=draw(st.integers(1, 100)),
        channel=draw(channels),
        account=draw(accounts),
        state=draw(st.sampled_from(list(DeliveryState))),
        attempt=draw(st.integers(0, 20)),
        sequence=draw(st.integers(1, 10_000)),
        due_at=draw(st.none() | aware),
        external_id=draw(st.none() | ids),
        error=error,
    )
    return DeliveryStatus(payload=delivery, occurred_at=draw(aware), correlation_id=draw(st.none() | ids))


@st.composite
def commands(draw: st.DrawFn) -> RetryDelivery | CancelDelivery | ReleaseDelivery | RescheduleDelivery:
    ref = DeliveryRef(
        content_id=draw(ids), channel=draw(channels), account=draw(accounts), requested_by=draw(texts(1, 40))
    )
    cls = draw(st.sampled_from([RetryDelivery, CancelDelivery, ReleaseDelivery, RescheduleDelivery]))
    if cls is ReleaseDelivery:
        return ReleaseDelivery(payload=ref, at=draw(st.none() | aware))
    if cls is RescheduleDelivery:
        return RescheduleDelivery(payload=ref, at=draw(aware))
    return cls(payload=ref)  # type: ignore[return-value]


@st.composite
def hold_commands(draw: st.DrawFn) -> HoldPublishing | ReleasePublishing:
    hold_id, who = draw(ids), draw(texts(1, 40))
    if draw(st.booleans()):
        return ReleasePublishing(
            payload=HoldRelease(hold_id=hold_id, requested_by=who, reason=draw(texts(0, 80)))
        )
    hold = Hold(
        hold_id=hold_id,
        unit=draw(st.none() | texts(1, 60).filter(str.strip)),
        channel=draw(st.none() | channels),
        account=draw(st.none() | accounts),
        requested_by=who,
        reason=draw(texts(1, 200)),
    )
    return HoldPublishing(payload=hold)


content_events = st.one_of(
    contents().map(lambda c: ContentApproved(payload=c, producer="prop")),
    contents().map(lambda c: ContentUpdated(payload=c, producer="prop")),
    st.builds(
        lambda i, r, who: ContentRetracted(payload=Retraction(id=i, reason=r, requested_by=who)),
        ids,
        texts(1, 200).filter(str.strip),
        texts(1, 40),
    ),
)

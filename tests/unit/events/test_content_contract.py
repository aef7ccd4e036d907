"""What the content model accepts and refuses, naming the field; the committed contract is current."""

from __future__ import annotations

import html
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from loa.events import Content, ContentApproved, parse_content_event
from loa.events.export import render
from loa.kafka import describe_validation_error
from loa.settings import REPO_ROOT
from tests.support.payloads import valid_payload, with_

pytestmark = pytest.mark.unit


def refused(payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        ContentApproved.model_validate({"payload": payload})
    return describe_validation_error(info.value)


def test_nfd_text_becomes_nfc_everywhere() -> None:
    nfd = unicodedata.normalize("NFD", "Đại hội Đảng bộ")
    payload = valid_payload()
    payload |= {"title": nfd, "summary": nfd, "unit": nfd, "tags": [nfd], "body": f"<p>{nfd}</p>"}
    payload["targets"][0]["title"] = nfd
    content = Content.model_validate(payload)
    for text in (
        content.title,
        content.summary,
        content.unit,
        content.tags[0],
        content.body,
        content.targets[0].title,
    ):
        assert text is not None
        assert unicodedata.is_normalized("NFC", text)
        assert "Đại hội Đảng bộ" in text


def test_a_correction_names_the_content_it_corrects_and_only_a_correction_does() -> None:
    correction = valid_payload("tcbc-001-dinh-chinh") | {"kind": "correction", "corrects": "tcbc-001"}
    assert Content.model_validate(correction).corrects == "tcbc-001"
    assert "corrects: required when kind is correction" in refused(with_(correction, "corrects", ...))
    not_a_correction = with_(valid_payload(), "corrects", "tcbc-000")
    assert "corrects: only a content of kind correction" in refused(not_a_correction)
    assert "a content cannot correct itself" in refused(with_(correction, "corrects", "tcbc-001-dinh-chinh"))


def test_priority_is_normal_unless_urgent_is_asked() -> None:
    assert Content.model_validate(valid_payload()).priority == "normal"
    assert Content.model_validate(with_(valid_payload(), "priority", "urgent")).priority == "urgent"
    assert "payload.priority" in refused(with_(valid_payload(), "priority", "khẩn"))


def test_naive_publish_at_is_refused_naming_the_field() -> None:
    reason = refused(with_(valid_payload(), "publish_at", "2026-12-01T09:00:00"))
    assert "payload.publish_at" in reason
    assert "timezone" in reason


def test_publish_at_up_to_a_year_ahead() -> None:
    near = datetime.now(UTC) + timedelta(days=360)
    assert Content.model_validate(with_(valid_payload(), "publish_at", near.isoformat())).publish_at == near
    far = datetime.now(UTC) + timedelta(days=2 * 365)
    assert "payload.publish_at: Value error, must be at most 366 days ahead" in refused(
        with_(valid_payload(), "publish_at", far.isoformat())
    )


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="JaVaScRiPt&colon;alert(1)">mã hoá</a>',
        '<a href="jav&#x09;ascript:alert(1)">tab giữa chữ</a>',
        "<p style='x:expression(alert(1))'>x</p>",
        "<p>Khóa học JavaScript: cơ bản</p><img src=x onerror=alert(1)>",
        "<p>mua sắm online = 40%</p><svg/onload=1>",
        "<p>Giá < 5 triệu</p><iframe src=//evil>",
    ],
)
def test_executable_markup_in_the_body_is_refused_naming_the_field(body: str) -> None:
    reason = refused(with_(valid_payload(), "body", body))
    assert "payload.body" in reason
    assert "executable markup" in reason


# Prose that an office writes every day: the regex check of the first release refused each one.
PROSE = [
    "Khóa học JavaScript: cơ bản",
    "mua sắm online = 40%",
    "Tăng trưởng tín dụng <5% và lạm phát >3,2%",
    "Chỉ số giá: quý III = quý II + 1,5 điểm",
    "Hội thảo «javascript: ngôn ngữ của web» tại Đà Nẵng",
    "Người dân onboard = 12.000, online=đông nhất",
    "So sánh: a<b, b>c; tỷ lệ on-time = 98%",
    "<img src=x onerror=alert(1)> là ví dụ mã độc trong bài giảng an toàn thông tin",
    "<script> và <iframe>: hai thẻ cần chặn",
]


@pytest.mark.parametrize("text", PROSE)
@pytest.mark.parametrize("path", ["title", "summary", "unit", "approved_by", "tags", "targets.0.title"])
def test_plain_text_that_looks_like_code_is_kept_as_written(path: str, text: str) -> None:
    """Plain text is never refused for looking like code: every renderer escapes it."""
    content = Content.model_validate(with_(valid_payload(), path, [text] if path == "tags" else text))
    stored: Any = content.model_dump(mode="json")
    for part in path.split("."):
        stored = stored[int(part)] if part.isdigit() else stored[part]
    assert stored == ([text] if path == "tags" else text)


@pytest.mark.parametrize("text", PROSE)
def test_prose_in_an_html_body_is_kept(text: str) -> None:
    body = "<p>" + html.escape(text, quote=False) + "</p>"
    assert Content.model_validate(with_(valid_payload(), "body", body)).body == body


@pytest.mark.parametrize("text", [p for p in PROSE if "<" not in p])
def test_prose_typed_unescaped_into_a_body_is_kept(text: str) -> None:
    """``javascript:`` or ``online =`` between tags is text, not markup that runs."""
    body = Content.model_validate(with_(valid_payload(), "body", f"<p>{text}</p>")).body
    assert html.unescape(body) == f"<p>{text}</p>"


def test_harmless_markup_is_kept_or_stripped_and_links_get_rel() -> None:
    body = '<p>Xem <a href="https://bo.gov.vn">Cổng</a> <span class="x">và</span> <b>Đ</b></p>'
    content = Content.model_validate(with_(valid_payload(), "body", body))
    assert (
        content.body
        == '<p>Xem <a href="https://bo.gov.vn" rel="noopener noreferrer">Cổng</a> và <b>Đ</b></p>'
    )
    assert (
        Content.model_validate(with_(valid_payload(), "title", "Giá < 5 triệu & hơn")).title
        == "Giá < 5 triệu & hơn"
    )


def test_media_key_must_be_the_content_address() -> None:
    digest = "a" * 64
    ref = {"key": f"sha256/{digest}", "sha256": digest, "content_type": "image/png", "size": 10}
    assert Content.model_validate(with_(valid_payload(), "media", [ref])).media[0].key == f"sha256/{digest}"
    assert "payload.media.0.key" in refused(with_(valid_payload(), "media", [{**ref, "key": "../x"}]))
    assert "payload.media.0: Value error, key must be sha256" in refused(
        with_(valid_payload(), "media", [{**ref, "sha256": "b" * 64}])
    )


def test_the_parsed_event_equals_the_sent_one() -> None:
    event = ContentApproved(payload=Content.model_validate(valid_payload()))
    assert parse_content_event(event.model_dump_json()) == event


def test_committed_asyncapi_and_schemas_are_current() -> None:
    """Fails when the contract changed and ``python -m loa.events.export`` was not run."""
    for relative, text in render().items():
        path = REPO_ROOT / relative
        assert path.exists(), f"{relative} is missing: run python -m loa.events.export"
        assert path.read_text(encoding="utf-8") == text, (
            f"{relative} is stale: run python -m loa.events.export"
        )


def test_asyncapi_documents_every_topic() -> None:
    import json

    from loa.events import topics

    document = json.loads(render()["docs/asyncapi/asyncapi.json"])
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {t for t in topics.ALL if not t.endswith(".dlq")}
    assert "loa.payload.v1" in addresses  # what was sent, for the archive (loa.events.payload)
    assert {
        "ContentApproved",
        "ContentUpdated",
        "ContentRetracted",
        "DeliveryStatus",
        "AuditRecorded",
        "EngagementObserved",
        "SentPost",
    } <= set(document["components"]["schemas"])

"""Bidi controls and zero-width characters never reach a platform; Vietnamese and emoji stay intact."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from loa.events import Content, ContentApproved, parse_content_event
from loa.kafka import describe_validation_error
from loa.text import strip_invisible
from tests.support.payloads import valid_payload, with_

pytestmark = pytest.mark.unit

TITLE = "Đại hội Đảng bộ Bộ Thông tin: nghị quyết về chuyển đổi số"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧, UTS #51 emoji ZWJ sequence
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈: VS16 before the ZWJ
TECHNOLOGIST = "\U0001f469\U0001f3fd\u200d\U0001f4bb"  # 👩🏽‍💻: skin tone before the ZWJ


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("Đại hội \u202egpj.exe\u202c Đảng", "Đại hội gpj.exe Đảng"),  # right-to-left override + PDF
        ("\u2067Đà Nẵng\u2069 \u200fhôm nay\u200e", "Đà Nẵng hôm nay"),  # isolates and marks
        ("Hà\u200bNội\u2060 Đ\ufeffồng\u200c Tháp\u180e", "HàNội Đồng Tháp"),  # zero-width ones
        ("chuyển\u200dđổi", "chuyểnđổi"),  # ZWJ between letters joins nothing
        (
            f"Gia đình {FAMILY} {RAINBOW_FLAG} {TECHNOLOGIST}",
            f"Gia đình {FAMILY} {RAINBOW_FLAG} {TECHNOLOGIST}",
        ),
        (TITLE, TITLE),
    ],
)
def test_strip_invisible_keeps_text_and_emoji_sequences(dirty: str, clean: str) -> None:
    assert strip_invisible(dirty) == clean


def test_plain_text_fields_drop_bidi_controls_on_every_path() -> None:
    """A content system writing to Kafka directly gets the same text as the ingest API."""
    dirty = f"\u202e{TITLE}\u200b {FAMILY}"
    payload = with_(valid_payload(), "title", dirty)
    payload = with_(payload, "summary", dirty)
    payload = with_(payload, "tags", [dirty])
    payload = with_(payload, "targets.0.title", dirty)
    event = ContentApproved(payload=Content.model_validate(payload))
    parsed = parse_content_event(event.model_dump_json())
    assert isinstance(parsed, ContentApproved)
    content = parsed.payload
    expected = f"{TITLE} {FAMILY}"
    assert [content.title, content.summary, content.tags[0], content.targets[0].title] == [expected] * 4


def test_a_title_of_only_invisible_characters_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        Content.model_validate(with_(valid_payload(), "title", "\u202e\u200b\u2066"))
    reason = describe_validation_error(info.value)
    assert reason.startswith("title: ")
    assert "only invisible characters" in reason

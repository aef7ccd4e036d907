"""``comment.reply`` / ``comment.moderate`` on loa.commands.v1 and ``comment.action`` on loa.delivery.v1."""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from loa.events import CommentActionSettled, parse_command, parse_delivery_event
from loa.events.commands import REPLY_MAX, CommentReply, ModerateComment, ReplyToComment
from loa.events.comment_actions import CommentActionState
from loa.events.delivery import DeliveryStatus

REPLY = "Cảm ơn anh Đức. Thủ tục nộp trực tuyến tại dichvucong.gov.vn, hạn chót ngày 30/12."


def _ref(**changes: object) -> dict[str, object]:
    ref: dict[str, object] = {
        "content_id": "thong-cao-2026-12",
        "channel": "facebook",
        "account": "trang-chinh",
        "comment_id": "1029384756_4821",
        "action_id": "a1b2c3d4e5f6",
        "requested_by": "Trần Thị Bích",
    }
    return {**ref, **changes}


def test_a_vietnamese_reply_is_kept_nfc_and_round_trips() -> None:
    decomposed = unicodedata.normalize("NFD", REPLY)
    command = ReplyToComment(producer="loa-tracker", payload=CommentReply(**_ref(text=decomposed)))  # type: ignore[arg-type]
    assert command.payload.text == REPLY and unicodedata.is_normalized("NFC", command.payload.text)
    again = parse_command(command.model_dump_json())
    assert isinstance(again, ReplyToComment) and again.payload.text == REPLY


def test_a_reply_longer_than_the_channel_takes_names_the_field_and_the_limit() -> None:
    too_long = "Đ" * (REPLY_MAX["x"] + 1)
    with pytest.raises(ValidationError) as caught:
        CommentReply(**_ref(channel="x", text=too_long))  # type: ignore[arg-type]
    message = str(caught.value)
    assert "text: 281 characters, x takes a reply of at most 280" in message
    CommentReply(**_ref(channel="facebook", text=too_long))  # type: ignore[arg-type]  # Facebook takes it


def test_a_blank_reply_or_a_short_action_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="text"):
        CommentReply(**_ref(text="   "))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="action_id"):
        CommentReply(**_ref(action_id="a1", text=REPLY))  # type: ignore[arg-type]


def test_moderate_parses_from_the_commands_topic() -> None:
    raw = ModerateComment(producer="loa-tracker", payload=_ref()).model_dump_json()  # type: ignore[arg-type]
    parsed = parse_command(raw)
    assert isinstance(parsed, ModerateComment) and parsed.payload.comment_id == "1029384756_4821"


def test_the_delivery_topic_carries_statuses_and_comment_outcomes() -> None:
    outcome = CommentActionSettled(
        producer="loa-publisher-facebook",
        payload={**_ref(), "kind": "reply", "state": "done", "reply_id": "4821_99", "reply_text": REPLY},  # type: ignore[arg-type]
    )
    parsed = parse_delivery_event(outcome.model_dump_json())
    assert isinstance(parsed, CommentActionSettled)
    assert parsed.payload.state is CommentActionState.DONE and parsed.payload.reply_text == REPLY
    assert not isinstance(parsed, DeliveryStatus)

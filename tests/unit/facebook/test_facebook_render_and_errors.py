"""Hashtags, markers and the Graph error table, without servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from loa.channels import AuthError, DuplicatePostError, PermanentError, TransientError
from services.facebook.adapter import hashtag, hashtags, message_hash
from services.facebook.graph import map_error, retry_at_from

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Chuyển đổi số", "#ChuyểnĐổiSố"),
        ("Đắk Lắk", "#ĐắkLắk"),
        ("COVID-19", "#COVID19"),
        ("an toàn, giao thông!", "#AnToànGiaoThông"),
        ("Hà_Nội", "#Hà_Nội"),
        ("2030", None),
        ("—", None),
    ],
)
def test_hashtags_keep_vietnamese_letters_and_drop_spaces_and_punctuation(
    tag: str, expected: str | None
) -> None:
    assert hashtag(tag) == expected


def test_hashtags_are_nfc_and_deduplicated() -> None:
    decomposed = "Vie\u0302\u0323t Nam"  # "Việt Nam" typed with combining marks
    assert hashtags([decomposed, "Việt Nam", "việt nam"]) == ["#ViệtNam"]


def test_the_marker_ignores_normalisation_and_surrounding_space() -> None:
    assert message_hash("Việt Nam\n") == message_hash("Vie\u0302\u0323t Nam")
    assert message_hash("Việt Nam") != message_hash("Viet Nam")


def graph(code: int, subcode: int | None = None) -> dict[str, object]:
    error: dict[str, object] = {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "Abc"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (400, graph(190, 463), AuthError, "190/463"),
        (400, graph(190, 460), AuthError, "190/460"),
        (400, graph(190), AuthError, "190"),
        (403, graph(10), AuthError, "10"),
        (403, graph(200), AuthError, "200"),
        (403, graph(299), AuthError, "299"),
        (500, graph(1), TransientError, "1"),
        (503, graph(2), TransientError, "2"),
        (400, graph(4), TransientError, "4"),
        (400, graph(17), TransientError, "17"),
        (400, graph(32), TransientError, "32"),
        (400, graph(341), TransientError, "341"),
        (400, graph(613), TransientError, "613"),
        (502, "<html>Bad Gateway</html>", TransientError, None),
        (400, graph(506), DuplicatePostError, "506"),
        (400, graph(100, 33), PermanentError, "100/33"),
        (400, graph(368), PermanentError, "368"),
    ],
)
def test_the_error_table(status: int, body: object, kind: type[Exception], code: str | None) -> None:
    error = map_error(status, {}, body)
    assert type(error) is kind
    assert error.code == code


def test_the_error_keeps_type_subcode_and_trace_id() -> None:
    error = map_error(400, {}, graph(190, 463))
    assert "fbtrace_id=Abc" in error.message
    assert "OAuthException" in error.message
    assert json.loads(error.excerpt or "")["error"]["error_subcode"] == 463


def test_retry_at_takes_the_longest_wait_the_headers_give() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    buc = {
        "123": [
            {"type": "pages", "estimated_time_to_regain_access": 3},
            {"estimated_time_to_regain_access": 12},
        ]
    }
    headers = {"X-Business-Use-Case-Usage": json.dumps(buc), "X-App-Usage": '{"call_count": 40}'}
    assert retry_at_from(headers, now) == now + timedelta(minutes=12)
    assert retry_at_from({"X-App-Usage": '{"call_count": 100}'}, now) == now + timedelta(minutes=10)
    assert retry_at_from({"X-App-Usage": "not json"}, now) is None
    assert retry_at_from({}, now) is None

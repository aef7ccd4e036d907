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


def graph(code: int, subcode: int | None = None, **extra: object) -> dict[str, object]:
    error: dict[str, object] = {
        "message": "Không thể đăng bài lên Trang",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "Abc",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


ERRORS = "https://developers.facebook.com/docs/graph-api/guides/error-handling"
RATES = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"
VIDEO = "https://developers.facebook.com/docs/video-api/reference/error-codes"
UPLOADER = "facebook-python-business-sdk facebook_business/video_uploader.py"


@pytest.mark.parametrize(
    ("source", "status", "body", "kind", "code"),
    [
        (ERRORS, 400, graph(190, 458), AuthError, "190/458"),  # app not installed
        (ERRORS, 400, graph(190, 459), AuthError, "190/459"),  # user checkpointed
        (ERRORS, 400, graph(190, 460), AuthError, "190/460"),  # password changed
        (ERRORS, 400, graph(190, 463), AuthError, "190/463"),  # expired
        (ERRORS, 400, graph(190, 464), AuthError, "190/464"),  # unconfirmed user
        (ERRORS, 400, graph(190, 467), AuthError, "190/467"),  # invalid token
        (ERRORS, 400, graph(190), AuthError, "190"),
        (ERRORS, 400, graph(102), AuthError, "102"),  # session
        (ERRORS, 400, graph(3), AuthError, "3"),  # capability or permissions issue
        (ERRORS, 403, graph(10), AuthError, "10"),
        (ERRORS, 403, graph(200), AuthError, "200"),
        (ERRORS, 403, graph(299), AuthError, "299"),
        (ERRORS, 500, graph(1), TransientError, "1"),
        (ERRORS, 503, graph(2), TransientError, "2"),
        (ERRORS, 400, graph(4), TransientError, "4"),
        (ERRORS, 400, graph(17), TransientError, "17"),
        (ERRORS, 400, graph(32), TransientError, "32"),
        (ERRORS, 400, graph(341), TransientError, "341"),
        (ERRORS, 400, graph(368), TransientError, "368"),  # temporarily blocked: wait and retry
        (ERRORS, 400, graph(613), TransientError, "613"),
        (RATES, 400, graph(80001), TransientError, "80001"),
        (ERRORS, 400, graph(506), DuplicatePostError, "506"),
        (ERRORS, 400, graph(100), PermanentError, "100"),  # invalid parameter
        (ERRORS, 400, graph(100, 33), PermanentError, "100/33"),
        (ERRORS, 400, graph(1609005), PermanentError, "1609005"),
        (ERRORS, 400, graph(100, is_transient=True), TransientError, "100"),
        (ERRORS, 400, graph(190, 463, is_transient=True), TransientError, "190/463"),
        (VIDEO, 400, graph(6000, 6000), TransientError, "6000/6000"),  # "retry several times"
        (VIDEO, 400, graph(6001, 1363030), TransientError, "6001/1363030"),  # upload timeout
        (VIDEO, 400, graph(6001, 1363019), TransientError, "6001/1363019"),  # "retry upload"
        (UPLOADER, 400, graph(6001, 1363037), TransientError, "6001/1363037"),
        (VIDEO, 400, graph(100, 1363042), AuthError, "100/1363042"),  # "get valid access token"
        (None, 502, "<html>Bad Gateway</html>", TransientError, None),
        (None, 429, "", TransientError, None),
        (None, 400, "Yêu cầu không hợp lệ", PermanentError, None),
    ],
)
def test_the_error_table(
    source: str | None, status: int, body: object, kind: type[Exception], code: str | None
) -> None:
    error = map_error(status, {}, body)
    assert type(error) is kind
    assert error.code == code


def test_a_policy_block_waits_hours_not_the_usual_backoff() -> None:
    """368: "Temporarily blocked for policies violations. Wait and retry the operation." (ERRORS)"""
    before = datetime.now(UTC)
    error = map_error(400, {}, graph(368))
    assert isinstance(error, TransientError) and error.retry_at is not None
    assert error.retry_at >= before + timedelta(hours=6)


def test_a_policy_block_keeps_a_later_reset_the_headers_give() -> None:
    buc = {"1": [{"type": "pages", "estimated_time_to_regain_access": 600}]}
    error = map_error(400, {"X-Business-Use-Case-Usage": json.dumps(buc)}, graph(368))
    assert isinstance(error, TransientError) and error.retry_at is not None
    assert error.retry_at >= datetime.now(UTC) + timedelta(minutes=599)


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

"""TikTok's error codes onto Loa's three classes. Sources: developers.tiktok.com/doc/
tiktok-api-v2-error-handling (the v2 codes and their HTTP statuses) and …/doc/
content-posting-api-reference-direct-post (the codes of ``video/init``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from loa.channels import AuthError, ChannelError, PermanentError, TransientError
from services.tiktok.errors import TokenRejectedError, check, to_error

pytestmark = pytest.mark.unit
INIT = "https://open.tiktokapis.com/v2/post/publish/video/init/"


def answer(
    status: int, code: str, message: str = "", headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "log_id": "20251204070000ABCDEF"}}
    return httpx.Response(status, json=body, headers=headers, request=httpx.Request("POST", INIT))


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "access_token_invalid", TokenRejectedError),  # refreshed once, then a person
        (401, "scope_not_authorized", AuthError),
        (401, "scope_permission_missed", AuthError),
        (403, "spam_risk_user_banned_from_posting", AuthError),
        (403, "unaudited_client_can_only_post_to_private_accounts", AuthError),
        (429, "rate_limit_exceeded", TransientError),
        (403, "spam_risk_too_many_posts", TransientError),
        (403, "reached_active_user_cap", TransientError),
        (500, "internal_error", TransientError),
        (503, "", TransientError),
        (400, "invalid_params", PermanentError),
        (400, "invalid_param", PermanentError),
        (400, "invalid_file_upload", PermanentError),
        (403, "privacy_level_option_mismatch", PermanentError),
        (403, "url_ownership_unverified", PermanentError),
        (403, "spam_risk_text", PermanentError),
    ],
)
def test_each_documented_code_has_its_class(status: int, code: str, expected: type[ChannelError]) -> None:
    error = to_error(answer(status, code, "Nội dung bị từ chối"), "video/init")
    assert type(error) is expected
    assert error.code == (code or str(status))
    assert "video/init" in str(error) and "20251204070000ABCDEF" in str(error)  # log_id, for TikTok's support
    assert error.excerpt is not None and "Nội dung bị từ chối" in error.excerpt


def test_a_rate_limit_without_a_reset_header_waits_the_minute_window() -> None:
    before = datetime.now(UTC)
    error = to_error(answer(429, "rate_limit_exceeded"), "video/init")
    assert isinstance(error, TransientError) and error.retry_at is not None
    assert timedelta(seconds=59) < error.retry_at - before <= timedelta(seconds=61)
    later = to_error(answer(429, "rate_limit_exceeded", headers={"Retry-After": "120"}), "video/init")
    assert isinstance(later, TransientError) and later.retry_at is not None
    assert later.retry_at - before > timedelta(seconds=119)


def test_an_error_code_in_a_200_answer_is_an_error() -> None:
    with pytest.raises(PermanentError) as refused:
        check(answer(200, "something_new"), "status/fetch")
    assert refused.value.code == "something_new"


def test_ok_gives_the_data() -> None:
    body = {
        "data": {"publish_id": "v_pub_file~v2-1.7"},
        "error": {"code": "ok", "message": "", "log_id": "1"},
    }
    response = httpx.Response(200, json=body, request=httpx.Request("POST", INIT))
    assert check(response, "video/init") == {"publish_id": "v_pub_file~v2-1.7"}


def test_an_answer_without_json_falls_back_on_its_status() -> None:
    page = httpx.Response(502, text="<html>Bad Gateway</html>", request=httpx.Request("PUT", INIT))
    error = to_error(page, "upload chunk 1/3")
    assert isinstance(error, TransientError) and error.code == "502"

"""Pure pieces of the server (paths, ETags) and of WordPress error mapping."""

from __future__ import annotations

import httpx
import pytest

from loa.channels import AuthError, PermanentError, TransientError
from services.website.server import etag_matches, key_of
from services.website.wordpress import map_error

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/", "index.html"),
        ("/chu-de/chuyen-doi-so/", "chu-de/chuyen-doi-so/index.html"),
        ("/2026/11/bai-viet-6yart001.html", "2026/11/bai-viet-6yart001.html"),
        ("/media/" + "a" * 64, "media/" + "a" * 64),
        ("/../secret", None),
        ("/2026/../_index/entries/x.json", None),
        ("/_index/entries/x.json", None),
        ("/_withdrawn/2026/11/x.html", None),
        ("//etc/passwd", None),
    ],
)
def test_paths_map_to_keys_and_internals_stay_hidden(path: str, key: str | None) -> None:
    assert key_of(path) == key


def test_etag_matching_follows_if_none_match() -> None:
    assert etag_matches('"abc"', '"abc"')
    assert etag_matches('W/"abc", "def"', '"abc"')
    assert etag_matches("*", '"abc"')
    assert not etag_matches('"abd"', '"abc"')
    assert not etag_matches(None, '"abc"')


def _response(status: int, body: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, "rest_cannot_publish", AuthError),
        (401, "rest_cannot_create", AuthError),
        (401, "incorrect_password", AuthError),
        (500, "internal_server_error", TransientError),
        (502, "bad_gateway", TransientError),
        (429, "rest_too_many_requests", TransientError),
        (400, "rest_invalid_param", PermanentError),
        (400, "rest_invalid_featured_media", PermanentError),
        (404, "rest_post_invalid_id", PermanentError),
    ],
)
def test_wordpress_errors_map_to_our_three(status: int, code: str, expected: type[Exception]) -> None:
    error = map_error(
        _response(status, {"code": code, "message": "Thông báo lỗi", "data": {"status": status}}), "x"
    )
    assert type(error) is expected
    assert error.code == code  # type: ignore[attr-defined]
    assert "Thông báo lỗi" in str(error)


def test_retry_after_becomes_retry_at() -> None:
    error = map_error(_response(503, {"code": "x", "message": "y"}, **{"Retry-After": "120"}), "x")
    assert isinstance(error, TransientError) and error.retry_at is not None


def test_a_non_json_gateway_page_is_still_transient() -> None:
    error = map_error(httpx.Response(502, text="<html>Bad Gateway</html>"), "create post")
    assert isinstance(error, TransientError) and error.code == "502"

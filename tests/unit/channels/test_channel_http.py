"""``loa.channels.http``: the one Retry-After parser and the one status → error mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loa.channels import AuthError, ChannelError, PermanentError, TransientError
from loa.channels.http import (
    UNAUTHORIZED_ONLY,
    WAIT_MAX,
    error_class,
    http_error,
    reset_at,
    retry_after,
    retry_at,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Thu, 26 Nov 2026 08:32:00 GMT", 120.0),  # IMF-fixdate ahead
        ("Thursday, 26-Nov-26 08:32:00 GMT", 120.0),  # obsolete RFC 850 form, still to be accepted
        ("Thu Nov 26 08:32:00 2026", 120.0),  # asctime form: no zone, HTTP-dates are GMT
        ("Wed, 25 Nov 2026 08:30:00 GMT", 0.0),  # a date gone by: no wait
        ("99999999999999999999", WAIT_MAX.total_seconds()),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert retry_after(value, NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "next tuesday", "-5", "1.5", "120s", "٣"])
def test_retry_after_that_is_absent_or_not_valid_is_none(value: str | None) -> None:
    assert retry_after(value, NOW) is None


def test_retry_at_finds_the_header_whatever_its_case() -> None:
    assert retry_at({"retry-after": "30"}, NOW) == NOW + timedelta(seconds=30)
    assert retry_at({"Retry-After": "Thu, 26 Nov 2026 09:00:00 GMT"}, NOW) == datetime(
        2026, 11, 26, 9, tzinfo=UTC
    )
    assert retry_at({}, NOW) is None
    assert retry_at(None, NOW) is None
    assert retry_at({"Retry-After": "soon"}, NOW) is None


def test_reset_at_reads_epoch_seconds_within_the_cap() -> None:
    reset = int((NOW + timedelta(minutes=15)).timestamp())
    assert reset_at({"X-RateLimit-Reset": str(reset)}, "x-ratelimit-reset", NOW) == NOW + timedelta(
        minutes=15
    )
    assert reset_at({"x-rate-limit-reset": "soon"}, "x-rate-limit-reset", NOW) is None
    assert reset_at({}, "x-rate-limit-reset", NOW) is None
    assert reset_at({"x-rate-limit-reset": "9" * 30}, "x-rate-limit-reset", NOW) == NOW + WAIT_MAX


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, TransientError),  # no answer at all
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (408, TransientError),
        (425, TransientError),
        (429, TransientError),
        (401, AuthError),
        (403, AuthError),
        (400, PermanentError),
        (404, PermanentError),
        (409, PermanentError),
        (410, PermanentError),
        (413, PermanentError),
        (422, PermanentError),
    ],
)
def test_status_maps_onto_our_three_errors(status: int | None, expected: type[ChannelError]) -> None:
    assert error_class(status) is expected


def test_a_platform_whose_403_refuses_the_request_keeps_it_permanent() -> None:
    assert error_class(403, UNAUTHORIZED_ONLY) is PermanentError
    assert error_class(401, UNAUTHORIZED_ONLY) is AuthError
    assert error_class(429, UNAUTHORIZED_ONLY) is TransientError


def test_http_error_keeps_the_code_and_the_retry_time_of_a_transient_answer() -> None:
    later = NOW + timedelta(minutes=1)
    busy = http_error(503, "busy", excerpt="<html>", retry_at=later)
    assert isinstance(busy, TransientError)
    assert (busy.code, busy.excerpt, busy.retry_at, busy.message) == ("503", "<html>", later, "busy")
    refused = http_error(401, "who are you", code="invalid_token", retry_at=later)
    assert type(refused) is AuthError and refused.code == "invalid_token"
    assert type(http_error(422, "bad", retry_at=later)) is PermanentError

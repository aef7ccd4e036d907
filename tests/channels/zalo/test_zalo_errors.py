"""Zalo's error codes as Loa errors, one case per code, each naming where the code comes from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loa.channels import AuthError, PermanentError, TransientError
from services.zalo.api import TokenRejectedError, next_quota_day, to_error

pytestmark = pytest.mark.unit

OA_ERRORS = "developers.zalo.me Official Account: Phụ lục, Mã lỗi (as listed in issue #19)"
PUBLIC = "public clients' readings, unconfirmed (services/zalo/README.md)"


@pytest.mark.parametrize(
    ("source", "code", "kind"),
    [
        (OA_ERRORS, -216, TokenRejectedError),  # access token invalid
        (OA_ERRORS, -220, TokenRejectedError),  # access token expired or removed
        (PUBLIC, -124, TokenRejectedError),
        (OA_ERRORS, -204, AuthError),  # the OA is deleted
        (OA_ERRORS, -209, AuthError),
        (OA_ERRORS, -212, AuthError),  # the OA has not registered this API
        (OA_ERRORS, -219, AuthError),  # the app is removed or deactivated
        (OA_ERRORS, -221, AuthError),
        (OA_ERRORS, -223, AuthError),
        (OA_ERRORS, -224, AuthError),
        (OA_ERRORS, -211, TransientError),  # out of quota
        (PUBLIC, -214, TransientError),  # article still processing
        (PUBLIC, -32, TransientError),
        (OA_ERRORS, -201, PermanentError),  # invalid parameter
        (None, -999, PermanentError),  # a code nobody documents: this post, with Zalo's message
    ],
)
def test_the_error_table(source: str | None, code: int, kind: type[Exception]) -> None:
    error = to_error(code, "Thông báo lỗi của Zalo", "{}")
    assert type(error) is kind
    assert error.code == str(code)
    assert "Thông báo lỗi của Zalo" in error.message


def test_an_account_level_code_parks_the_account_with_a_reason_a_person_can_act_on() -> None:
    error = to_error(-224, "OA chưa mua gói dịch vụ", "{}")
    assert isinstance(error, AuthError) and not isinstance(error, TokenRejectedError)
    assert "-224" in error.message and "a person must act" in error.message


def test_out_of_quota_waits_for_the_next_quota_day_in_vietnam() -> None:
    error = to_error(-211, "Out of quota", "{}")
    assert isinstance(error, TransientError)
    assert error.retry_at == next_quota_day()


def test_the_quota_day_starts_at_midnight_in_ho_chi_minh_city() -> None:
    # 23:30 on 3 December in Vietnam is 16:30 UTC; the next day starts at 17:00 UTC.
    assert next_quota_day(datetime(2026, 12, 3, 16, 30, tzinfo=UTC)) == datetime(2026, 12, 3, 17, tzinfo=UTC)
    assert next_quota_day(datetime(2026, 12, 3, 17, 0, tzinfo=UTC)) == datetime(2026, 12, 4, 17, tzinfo=UTC)

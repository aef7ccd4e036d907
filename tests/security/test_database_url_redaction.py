"""A database URL's password never reaches a log line, in the message or in a traceback."""

from __future__ import annotations

import json
import logging

import pytest

from loa.logging import JsonFormatter

pytestmark = pytest.mark.unit

URL = "postgresql+asyncpg://loa_tracker:Zq8-s3cr3t_Đ@127.0.0.1:5432/loa_tracker"


def formatted(record: logging.LogRecord) -> dict[str, str]:
    line: dict[str, str] = json.loads(JsonFormatter().format(record))
    return line


def test_a_logged_url_keeps_its_role_host_and_database_but_not_its_password() -> None:
    record = logging.LogRecord("loa.db", logging.WARNING, __file__, 1, "cannot reach %s", (URL,), None)
    message = formatted(record)["msg"]
    assert "Zq8-s3cr3t" not in message
    assert message == "cannot reach postgresql+asyncpg://loa_tracker:***@127.0.0.1:5432/loa_tracker"


def test_a_url_in_an_exception_is_masked_too() -> None:
    try:
        raise ConnectionError(f"connection to {URL} refused")
    except ConnectionError:
        import sys

        record = logging.LogRecord("loa.db", logging.ERROR, __file__, 1, "store down", (), sys.exc_info())
    line = formatted(record)
    assert "Zq8-s3cr3t" not in json.dumps(line, ensure_ascii=False)
    assert "loa_tracker:***@127.0.0.1" in line["exc"]


def test_urls_without_a_password_are_left_as_they_are() -> None:
    text = "see https://www.facebook.com/123 and http://127.0.0.1:8081/healthz"
    record = logging.LogRecord("loa", logging.INFO, __file__, 1, text, (), None)
    assert formatted(record)["msg"] == text

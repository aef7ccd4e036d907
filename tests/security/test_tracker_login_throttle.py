"""Failed dashboard sign-ins are throttled per client, before the token is even looked at."""

from __future__ import annotations

import pytest

from loa.settings import LoaSettings
from services.tracker.auth import SESSION_COOKIE
from services.tracker.login_throttle import LoginThrottle
from tests.integration.tracker.support import TOKENS
from tests.security.tracker_support import browser, sign_in, tracker_app

WRONG = "wrong-token-0123456789abcdef-0123456789"


@pytest.mark.integration
async def test_a_client_past_five_failures_waits_whatever_it_sends(
    settings: LoaSettings, sqlite_url: str
) -> None:
    async with (
        tracker_app(settings, sqlite_url) as app,
        browser(app, "192.0.2.66") as guesser,
        browser(app, "192.0.2.10") as colleague,
    ):
        for _ in range(5):
            assert (await sign_in(guesser, WRONG)).status_code == 401

        throttled = await sign_in(guesser, TOKENS["operator"])  # the right token: still no answer to it
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["retry-after"]) <= 300
        assert SESSION_COOKIE not in throttled.headers.get("set-cookie", "")
        assert "thử lại sau" in throttled.text

        assert (await sign_in(colleague, TOKENS["operator"])).status_code == 303  # others are not held
        assert (await sign_in(guesser, TOKENS["operator"])).status_code == 429  # nor freed by others


@pytest.mark.unit
def test_the_window_slides_and_a_success_clears_only_its_own_client() -> None:
    now = [1000.0]
    throttle = LoginThrottle(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("a") is None
        throttle.failed("a")
        throttle.failed("b")
        now[0] += 10
    assert throttle.retry_after("a") == 30  # failures at 1000, 1010, 1020; now 1030: the first leaves at 1060
    throttle.succeeded("b")
    assert throttle.retry_after("b") is None
    assert throttle.retry_after("a") == 30
    now[0] = 1060.0
    assert throttle.retry_after("a") is None


@pytest.mark.unit
def test_memory_stays_bounded_whatever_the_number_of_clients() -> None:
    throttle = LoginThrottle(max_failures=1, max_clients=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
        assert throttle.retry_after(f"unseen-{n}") is None
    assert len(throttle._failures) == 100
    assert throttle.retry_after("10.0.3.231") is not None  # the most recent are kept

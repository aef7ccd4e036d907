"""A link shown to people is http(s) with a host, wherever it enters (#15 item 6).

The schemes refused are the ones OWASP's XSS prevention cheat sheet names for URL contexts
(``javascript:``, ``data:``, ``vbscript:``); a link with user info (``https://a@b``) hides its real host.
"""

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from loa.channels import PublishResult
from loa.events import DeliveryStatus
from loa.links import WEB_LINK_MAX, web_link
from loa.publisher.store.codec import result_from_json, result_to_json

GOOD = [
    "https://www.facebook.com/123_456",
    "http://127.0.0.1:8082/2026/12/da-nang-abc.html",
    "https://x.com/i/status/1",
]
BAD = [
    "javascript:alert(document.cookie)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/tin-tuc",
    "https://trang-bo.gov.vn@evil.example/",
    "https:// khoảng trắng",
    "ftp://files.example/a",
]


def status(public_url: str) -> dict[str, object]:
    return {
        "type": "delivery.status",
        "occurred_at": datetime(2026, 12, 3, tzinfo=UTC).isoformat(),
        "payload": {
            "content_id": "tin-1",
            "version": 1,
            "channel": "facebook",
            "account": "trang-bo",
            "state": "published",
            "sequence": 3,
            "public_url": public_url,
        },
    }


@pytest.mark.parametrize("url", GOOD)
def test_web_links_pass(url: str) -> None:
    assert web_link(url) == url
    assert PublishResult("1", url).url == url
    assert DeliveryStatus.model_validate(status(url)).payload.public_url == url


@pytest.mark.parametrize("url", BAD)
def test_a_delivery_event_with_another_link_is_refused_naming_the_field(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        DeliveryStatus.model_validate(status(url))
    assert refused.value.errors()[0]["loc"] == ("payload", "public_url")


@pytest.mark.parametrize("url", BAD)
def test_a_platform_answer_with_another_link_keeps_the_post_and_drops_the_link(url: str) -> None:
    assert web_link(url) is None
    result = PublishResult("1", url)
    assert (result.external_id, result.url) == ("1", None)


def test_a_link_longer_than_the_event_allows_is_dropped_wherever_the_result_comes_from() -> None:
    """The delivery event's 2000-character cap is kept by ``PublishResult`` itself (``web_link``),
    also for a result read back from the job store, so the event writer need not cut a link: a cut
    link would point somewhere else."""
    long = "https://www.facebook.com/" + "a" * (WEB_LINK_MAX - len("https://www.facebook.com/") + 1)
    assert PublishResult("1", long).url is None
    assert result_from_json(json.dumps({"external_id": "1", "url": long})).url is None
    longest = long[:WEB_LINK_MAX]
    assert result_from_json(result_to_json(PublishResult("1", longest))).url == longest
    assert DeliveryStatus.model_validate(status(longest)).payload.public_url == longest

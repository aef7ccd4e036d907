"""A delivery records the host it went to (#15 item 1): host and port only, never a URL.

The sandbox host in development, the platform's in production; the tracker and ``loa status`` show
it, so a delivery that went to an emulator is told apart from one citizens see. A path or query
may carry a token (Zalo's and Graph's ``access_token`` query parameter), so the event refuses one.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from loa.channels import Account
from loa.events import Delivery
from loa.mode import target_host
from loa.testing import FakeContext
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings
from services.webhook.adapter import WebhookAdapter
from services.webhook.settings import WebhookSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings

pytestmark = pytest.mark.unit
PUBLIC_SITE = "https://thongtin.bo.gov.vn"


def delivery(host: str | None) -> Delivery:
    return Delivery.model_validate(
        {
            "content_id": "tin-1",
            "version": 1,
            "channel": "zalo",
            "account": "bo-tttt",
            "state": "published",
            "sequence": 4,
            "target_host": host,
        }
    )


@pytest.mark.parametrize(
    "host", ["openapi.zalo.me", "127.0.0.1:8090", "[::1]:8091", "cổng".encode("idna").decode()]
)
def test_a_host_and_port_pass(host: str) -> None:
    assert delivery(host).target_host == host


@pytest.mark.parametrize(
    "host",
    [
        "https://openapi.zalo.me",
        "openapi.zalo.me/v2.0/article/create",
        "graph.facebook.com?access_token=EAAB-bi-mat",
        "ke-gian@openapi.zalo.me",
        "openapi.zalo.me:80:80",
        "",
    ],
)
def test_anything_more_than_a_host_is_refused_naming_the_field(host: str) -> None:
    with pytest.raises(ValidationError) as refused:
        delivery(host)
    assert refused.value.errors()[0]["loc"] == ("target_host",)


def test_an_event_without_a_host_still_validates() -> None:
    """Older publishers, and states before any call, carry none: the field is optional."""
    assert delivery(None).target_host is None


async def test_each_adapter_names_the_host_of_its_platform_or_its_accounts_address() -> None:
    context = FakeContext()
    dev: dict[str, Any] = {"mode": "development", "sandbox_url": "http://127.0.0.1:8090"}
    zalo = ZaloAdapter(context, ZaloSettings(**dev))
    facebook = FacebookAdapter(context, FacebookSettings(mode="production", website_base_url=PUBLIC_SITE))
    webhook = WebhookAdapter(context, WebhookSettings(**dev))
    website = WebsiteAdapter(context, WebsiteSettings(**dev, website_base_url="http://127.0.0.1:8082"))
    hook = Account("webhook", "noi-bo", {}, {"url": "https://noi-bo.gov.vn:8443/hook/abc?token=bi-mat"})
    wordpress = Account("website", "wp", {}, {"mode": "wordpress", "url": "https://cong.bo.gov.vn/wp"})
    try:
        assert zalo.target_host(Account("zalo", "bo-tttt", {})) == "127.0.0.1:8090"  # the sandbox
        assert facebook.target_host(Account("facebook", "trang-bo", {})) == "graph.facebook.com"
        assert webhook.target_host(hook) == "noi-bo.gov.vn:8443"  # never its path or query
        assert website.target_host(wordpress) == "cong.bo.gov.vn"
        assert website.target_host(Account("website", "main", {})) == "127.0.0.1:8082"
    finally:
        for adapter in (zalo, facebook, webhook, website):
            await adapter.aclose()


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://[::1]:8091/graph?access_token=bi-mat", "[::1]:8091"),
        ("https://cổng.bộ.vn/wp-json", "xn--cng-qmz.xn--b-8xm.vn"),
        ("https://thongtin.bo.gov.vn:443", "thongtin.bo.gov.vn:443"),
    ],
)
def test_the_host_of_any_url_is_one_the_event_accepts(url: str, host: str) -> None:
    assert target_host(url) == host
    assert delivery(host).target_host == host

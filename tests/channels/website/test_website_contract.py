"""The shared adapter contract on the website adapter, in both modes.

Static mode runs against real MinIO (its "platform" is the public bucket); WordPress mode against
the sandbox's WordPress emulator served over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from loa.channels import Account, ChannelAdapter, Context, Secret
from loa.settings import LoaSettings
from loa.testing.adapter_contract import AdapterContract
from loa.testing.context import FakeContext
from services.sandbox import wordpress as emulator
from services.sandbox.app import build_app
from services.sandbox.frame import Fault, sandbox
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from services.website.site.bucket import SiteBucket
from tests.website_support import RunningServer, make_media

pytestmark = pytest.mark.integration

PAGE_KEY = re.compile(r"^\d{4}/\d{2}/[^/]+\.html$")
TAGS = re.compile(r"<[^>]+>")
TIMEOUT_S = 0.5


class TestStaticWebsiteContract(AdapterContract):
    settings: LoaSettings

    @pytest.fixture(autouse=True)
    def _own_buckets(self, settings: LoaSettings) -> None:
        self.settings = settings

    def make_context(self) -> Context:
        return FakeContext(media=make_media(self.settings))

    def make_adapter(self, context: Context) -> ChannelAdapter:
        self.website = WebsiteAdapter(context, WebsiteSettings(**self.settings.model_dump()))
        return self.website

    def make_account(self) -> Account:
        return Account("website", "cong-ttdt", {}, {"mode": "static"})

    async def platform_posts(self) -> list[dict[str, Any]]:
        bucket: SiteBucket = self.website.static.bucket
        pages = [o.key for o in bucket.iter_objects("") if PAGE_KEY.match(o.key)]
        return [{"id": "/" + key, "text": TAGS.sub(" ", (bucket.get(key) or b"").decode())} for key in pages]

    async def inject_fault(self, kind: str) -> None:
        pytest.skip("the static site's platform is MinIO itself: no platform error to inject")


@pytest.fixture(scope="module")
def wordpress_url() -> Iterator[str]:
    with RunningServer(app=build_app()) as server:
        yield server.url + "/wordpress"


class TestWordPressWebsiteContract(AdapterContract):
    revoked: bool

    @pytest.fixture(autouse=True)
    def _fresh_site(self, wordpress_url: str) -> None:
        sandbox.reset()
        self.url = wordpress_url
        self.revoked = False

    def make_adapter(self, context: Context) -> ChannelAdapter:
        settings = WebsiteSettings(website_wordpress_url=self.url, website_http_timeout_s=TIMEOUT_S)  # type: ignore[arg-type]
        return WebsiteAdapter(context, settings)

    def make_account(self) -> Account:
        password = "revoked0revoked0revoked0" if self.revoked else "Vx7k Qm2p Lr9t Ws4z Hb6n Jd8c"
        return Account(
            "website",
            "wordpress-bo",
            {"username": Secret("bientap-vien"), "application_password": Secret(password)},
            {"mode": "wordpress"},
        )

    async def platform_posts(self) -> list[dict[str, Any]]:
        return [
            {"id": str(p["id"]), "text": f"{p['title']} {TAGS.sub(' ', p['content'])}"}
            for p in emulator.state.posts.values()
            if p["status"] != "trash"
        ]

    async def inject_fault(self, kind: str) -> None:
        def body(code: str, message: str, status: int) -> dict[str, Any]:
            return {"code": code, "message": message, "data": {"status": status}}

        if kind == "expired_token":
            self.revoked = True  # the application password was revoked in wp-admin
        elif kind == "server_error":
            sandbox.plan(Fault("wordpress", 500, body("internal_server_error", "Lỗi nghiêm trọng.", 500)))
        elif kind == "rate_limit":
            # WordPress core has no rate limit; hosts in front of it answer 429 with Retry-After.
            sandbox.plan(
                Fault(
                    "wordpress",
                    429,
                    body("rest_too_many_requests", "Too many requests.", 429),
                    {"Retry-After": "30"},
                )
            )
        elif kind == "invalid":
            sandbox.plan(
                Fault("wordpress", 400, body("rest_invalid_param", "Invalid parameter(s): status", 400))
            )
        elif kind == "timeout":
            sandbox.plan(Fault("wordpress", status=0, latency_ms=int(TIMEOUT_S * 3000)))
        else:
            raise AssertionError(kind)

"""LOA_MODE: production (the code's default) reaches only the real platforms; development says so.

The sandbox answers with real-looking permalinks: a production publisher sent to it (or to this
machine, a private network, plain http://) would report "published" for posts no citizen sees and
hand real tokens to an emulator, so it refuses to start, naming the setting.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette

from loa.channels import Account, PermanentError, Secret
from loa.cli.status import mode_line
from loa.events import Content, Target
from loa.health import Readiness, health_routes
from loa.mode import targets
from loa.publisher.main import Publisher
from loa.publisher.metrics import http_app
from loa.publisher.settings import PublisherSettings
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT, LoaSettings
from loa.testing import FakeContext
from services.facebook.settings import FacebookSettings
from services.ingest.settings import IngestSettings
from services.tiktok.settings import TikTokSettings
from services.tracker.settings import TrackerSettings
from services.webhook.adapter import WebhookAdapter
from services.webhook.settings import WebhookSettings
from services.website.settings import WebsiteSettings
from services.website.wordpress import WordPress
from services.x.adapter import XAdapter
from services.x.settings import XSettings
from services.youtube.settings import YouTubeSettings
from services.zalo.settings import ZaloSettings
from tests.integration.tracker.support import TOKENS, auth, running_tracker, tracker_settings
from tests.support.payloads import valid_payload

pytestmark = pytest.mark.integration  # the publisher's and the tracker's tests use the stack
PUBLIC_SITE = "https://thongtin.bo.gov.vn"

REAL = {
    FacebookSettings: {"LOA_FACEBOOK_GRAPH_URL": "graph.facebook.com"},
    ZaloSettings: {"LOA_ZALO_OPENAPI_URL": "openapi.zalo.me", "LOA_ZALO_OAUTH_URL": "oauth.zaloapp.com"},
    YouTubeSettings: {
        "LOA_YOUTUBE_API_URL": "youtube.googleapis.com",
        "LOA_YOUTUBE_TOKEN_URL": "oauth2.googleapis.com",
    },
    XSettings: {"LOA_X_API_URL": "api.x.com"},
    TikTokSettings: {"LOA_TIKTOK_API_URL": "open.tiktokapis.com"},
    WebsiteSettings: {},  # the office's own WordPress: no default in production
    WebhookSettings: {},  # its receivers are account options
}


@pytest.mark.parametrize("settings_cls", list(REAL))
def test_production_is_the_default_and_goes_to_the_real_platforms(
    settings_cls: type[PublisherSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOA_MODE")  # the code's default, whatever the tests and .env.local say
    monkeypatch.setenv("LOA_WEBSITE_BASE_URL", PUBLIC_SITE)
    settings = settings_cls(_env_file=None)
    assert settings.mode == "production"
    assert targets(settings) == REAL[settings_cls]


@pytest.mark.parametrize("settings_cls", list(REAL))
def test_development_goes_to_the_sandbox(settings_cls: type[PublisherSettings]) -> None:
    settings = settings_cls(mode="development")
    assert all(host.startswith("127.0.0.1:809") for host in targets(settings).values())
    assert len(targets(settings)) == len(REAL[settings_cls]) + (settings_cls is WebsiteSettings)


@pytest.mark.parametrize(
    ("settings_cls", "setting", "url", "why"),
    [
        (FacebookSettings, "facebook_graph_url", "https://sandbox:8091/graph", "is the sandbox's"),
        (FacebookSettings, "facebook_graph_url", "https://127.0.0.1/graph", "this machine"),
        (ZaloSettings, "zalo_oauth_url", "https://localhost:8443", "this machine"),
        (ZaloSettings, "zalo_openapi_url", "https://10.20.0.5", "private network"),
        (YouTubeSettings, "youtube_token_url", "https://[::1]:8091/token", "this machine"),
        (XSettings, "x_api_url", "http://api.x.com", "not https://"),
        (TikTokSettings, "tiktok_api_url", "http://sandbox:8090/tiktok", "is the sandbox's"),
        (WebsiteSettings, "website_wordpress_url", "http://cong.bo.gov.vn", "not https://"),
        # the tracker's Connect (services/<channel>/connect.py) goes to the platforms as the publishers do
        (TrackerSettings, "facebook_dialog_url", "https://sandbox:8091/facebook", "is the sandbox's"),
        (TrackerSettings, "youtube_auth_url", "https://localhost/o/oauth2/v2/auth", "this machine"),
        (TrackerSettings, "x_authorize_url", "http://twitter.com/i/oauth2/authorize", "not https://"),
    ],
)
def test_production_refuses_a_platform_url_that_is_not_the_platform(
    settings_cls: type[PublisherSettings], setting: str, url: str, why: str
) -> None:
    values: dict[str, Any] = {setting: url, "sandbox_url": "http://sandbox:8090"}
    with pytest.raises(ValidationError) as refused:
        settings_cls(mode="production", **values)
    message = str(refused.value)
    assert f"LOA_{setting.upper()}" in message
    assert why in message
    settings_cls(mode="development", **values)  # allowed there


def test_production_accepts_a_configured_real_platform() -> None:
    settings = WebsiteSettings(
        mode="production", website_wordpress_url="https://cong.bo.gov.vn", website_base_url=PUBLIC_SITE
    )
    assert targets(settings) == {"LOA_WEBSITE_WORDPRESS_URL": "cong.bo.gov.vn"}


@pytest.mark.parametrize("settings_cls", [IngestSettings, XSettings, WebsiteSettings, ZaloSettings])
@pytest.mark.parametrize(
    ("url", "why"),
    [
        (None, "its host 127.0.0.1 is this machine"),  # the default, made for make run
        ("https://localhost/tin", "its host localhost is this machine"),
        ("https://192.168.1.20", "its host 192.168.1.20 is this machine or a private network"),
        ("http://thongtin.bo.gov.vn", "it is not https://"),
    ],
)
def test_a_production_service_that_links_to_the_website_needs_its_public_https_address(
    settings_cls: type[LoaSettings], url: str | None, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links in posts (canonical URLs, Zalo's photos) reach citizens: never loopback or plain http."""
    monkeypatch.delenv("LOA_WEBSITE_BASE_URL", raising=False)
    values: dict[str, Any] = {
        "website_wordpress_url": "https://cong.bo.gov.vn",
        "sandbox_url": "http://sandbox:8090",
    }
    if url is not None:
        values["website_base_url"] = url
    with pytest.raises(ValidationError) as refused:
        settings_cls(_env_file=None, mode="production", **values)
    assert f"LOA_WEBSITE_BASE_URL: {why}" in refused.value.errors()[0]["msg"]
    settings_cls(_env_file=None, mode="production", **{**values, "website_base_url": PUBLIC_SITE})
    settings_cls(_env_file=None, mode="development", **values)


def test_a_service_that_puts_no_links_in_posts_does_not_need_the_website_address() -> None:
    tracker = TrackerSettings(_env_file=None, mode="production", website_base_url="http://127.0.0.1:8082")
    assert tracker.mode == "production"


def _run(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": CHECKOUT_PYTHONPATH, **env}
    command = [sys.executable, "-m", module]
    return subprocess.run(command, env=environment, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_a_production_publisher_pointed_at_the_sandbox_refuses_to_start() -> None:
    result = _run("services.x", LOA_MODE="production", LOA_X_API_URL="http://127.0.0.1:8090/x")
    assert result.returncode != 0
    assert "LOA_X_API_URL: its host 127.0.0.1 is the sandbox's" in result.stderr
    assert "publisher x started" not in result.stderr


def test_a_production_ingest_with_a_loopback_website_address_refuses_to_start() -> None:
    result = _run(
        "services.ingest",
        LOA_MODE="production",
        LOA_WEBSITE_BASE_URL="http://127.0.0.1:8082",
        LOA_SANDBOX_URL="http://sandbox:8090",
    )
    assert result.returncode != 0
    assert "LOA_WEBSITE_BASE_URL: its host 127.0.0.1 is this machine" in result.stderr


def test_the_sandbox_refuses_to_start_in_production(tmp_path: Path) -> None:
    result = _run(
        "services.sandbox",
        LOA_MODE="production",
        LOA_SANDBOX_PORT="0",
        LOA_SANDBOX_TLS_PORT="",
        LOA_SANDBOX_CA_FILE=str(tmp_path / "ca.pem"),
    )
    assert result.returncode != 0
    assert "the sandbox refuses to start: LOA_MODE is production" in result.stderr


def _content() -> tuple[Content, Target]:
    content = Content.model_validate(valid_payload())
    return content, Target(channel="webhook", account="cong-noi-bo")


def _webhook_account(url: str) -> Account:
    secret = {"secret": Secret("bí-mật-cổng-nội-bộ-2025-0123456789")}
    return Account("webhook", "cong-noi-bo", secret, {"url": url})


async def test_a_production_webhook_to_plain_http_fails_naming_the_option() -> None:
    content, target = _content()
    adapter = WebhookAdapter(FakeContext(), WebhookSettings(mode="production", website_base_url=PUBLIC_SITE))
    try:
        with pytest.raises(PermanentError, match=r"options\.url must be https:// in production"):
            await adapter.render(content, target, _webhook_account("http://noi-bo.gov.vn/hook/abc"))
        await adapter.render(content, target, _webhook_account("https://noi-bo.gov.vn/hook/abc"))
    finally:
        await adapter.aclose()
    development = WebhookAdapter(FakeContext(), WebhookSettings(mode="development"))
    await development.render(content, target, _webhook_account("http://127.0.0.1:8090/webhook/x"))
    await development.aclose()


async def test_a_production_wordpress_account_needs_an_https_site() -> None:
    wordpress = WordPress(WebsiteSettings(mode="production", website_base_url=PUBLIC_SITE))
    try:
        for options, why in [({}, "options.url is missing"), ({"url": "http://cong.bo.gov.vn"}, "https://")]:
            with pytest.raises(PermanentError, match=why):
                wordpress._base(Account("website", "wp", {}, options))
    finally:
        await wordpress.aclose()


async def test_a_development_publisher_shows_its_mode_and_target_hosts(
    settings: LoaSettings, tmp_path: Path
) -> None:
    values = settings.model_dump(exclude={"mode", "publisher_database_url"})
    x = XSettings(
        **values,
        mode="development",
        publisher_database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        x_api_url="http://127.0.0.1:8090/x/?token=never-shown",
    )
    publisher = Publisher(XAdapter, x)
    try:
        transport = httpx.ASGITransport(app=http_app(publisher.metrics, publisher.readiness()))
        async with httpx.AsyncClient(transport=transport, base_url="http://publisher") as client:
            health = (await client.get("/healthz")).json()
            metrics = (await client.get("/metrics")).text
    finally:
        await publisher.adapter.aclose()
        await publisher.engine.dispose()
    assert health["mode"] == "development"
    assert health["targets"] == {"LOA_X_API_URL": "127.0.0.1:8090"}  # the host only: never a path or query
    assert 'loa_mode{mode="development"} 1.0' in metrics


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_the_tracker_says_its_mode_and_only_development_carries_the_banner(
    settings: LoaSettings, sqlite_url: str, mode: str
) -> None:
    # .env.local names the development OIDC provider (plain http), which production refuses
    sso = {"oidc_issuer": None} if mode == "production" else {}
    tracker = tracker_settings(settings, sqlite_url, tracker_consume=False, mode=mode, **sso)
    async with running_tracker(tracker) as (_, client):
        health = (await client.get("/healthz")).json()
        metrics = (await client.get("/metrics", headers=auth("viewer"))).text
        await client.post("/login", data={"token": TOKENS["viewer"], "next": "/"})
        page = await client.get("/")
        dashboard = page.text
        status_line = await asyncio.to_thread(_status_mode_line, str(client.base_url))
    assert health["mode"] == mode
    assert page.status_code == 200
    assert 'id="system"' in dashboard  # the overview itself, signed in
    assert f'loa_mode{{mode="{mode}"}} 1.0' in metrics
    banner = 'id="sandbox-banner"' in dashboard and "SANDBOX" in dashboard
    assert banner is (mode == "development")
    assert status_line is not None
    assert ("SANDBOX" in status_line) is (mode == "development")
    assert f"mode: {mode}" in status_line


def _status_mode_line(base_url: str) -> str | None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        return mode_line(client)


async def test_the_dashboard_shows_the_host_each_publisher_targets(
    settings: LoaSettings, sqlite_url: str
) -> None:
    about = {"mode": "development", "targets": {"LOA_X_API_URL": "127.0.0.1:8090"}}
    publisher = Starlette(routes=health_routes(lambda: Readiness({}, about=about)))
    server = uvicorn.Server(uvicorn.Config(publisher, host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    health = {"x": f"http://127.0.0.1:{port}/readyz"}
    tracker = tracker_settings(settings, sqlite_url, tracker_consume=False, tracker_publisher_health=health)
    try:
        async with running_tracker(tracker) as (_, client):
            page = (await client.get("/", headers=auth("viewer"))).text
    finally:
        server.should_exit = True
        await serving
    row = re.search(r'<li data-publisher="x" class="ok">(.*?)</li>', page, re.S)
    assert row, page
    assert "→ 127.0.0.1:8090" in row.group(1)

"""The sign-in's way out and back, over HTTP: what the tracker sends the browser to the provider
with, and the callbacks it refuses before any code is exchanged (the provider: the local stack's)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from loa.settings import LoaSettings
from tests.security.tracker_support import browser, tracker_app
from tests.support.oidc import ISSUER, Client, oidc_client, oidc_provider

pytestmark = pytest.mark.integration
__all__ = ["oidc_client", "oidc_provider"]  # fixtures, used by name


async def test_the_way_out_carries_pkce_state_and_nonce_and_binds_the_state_to_the_browser(
    settings: LoaSettings, sqlite_url: str, oidc_client: Client
) -> None:
    async with tracker_app(settings, sqlite_url, **oidc_client.settings()) as app, browser(app) as client:
        out = await client.get("/login/oidc", params={"next": "/units"})
        assert out.status_code == 303
        to = urlsplit(out.headers["location"])
        assert f"{to.scheme}://{to.netloc}/" == ISSUER
        query = {k: v[0] for k, v in parse_qs(to.query).items()}
        assert query["response_type"] == "code"
        assert query["client_id"] == oidc_client.client_id
        assert query["redirect_uri"] == "http://127.0.0.1:8081/auth/callback"
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["state"] != query["nonce"]
        cookie = out.headers["set-cookie"]
        assert cookie.startswith(f"loa_oidc_state={query['state']};")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/auth/callback" in cookie
        again = await client.get("/login/oidc")
        assert parse_qs(urlsplit(again.headers["location"]).query)["state"][0] != query["state"]


async def test_callbacks_refused_before_any_code_is_exchanged(
    settings: LoaSettings, sqlite_url: str, oidc_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async with tracker_app(settings, sqlite_url, **oidc_client.settings()) as app, browser(app) as client:
        out = await client.get("/login/oidc")
        state = parse_qs(urlsplit(out.headers["location"]).query)["state"][0]
        client.cookies.clear()

        no_cookie = await client.get("/auth/callback", params={"state": state, "code": "x"})
        assert no_cookie.status_code == 403
        assert "Đăng nhập không thành công" in no_cookie.text
        assert "loa_tracker_session" not in no_cookie.headers.get("set-cookie", "")

        bound = {"Cookie": f"loa_oidc_state={state}"}
        denied = await client.get(
            "/auth/callback", params={"state": state, "error": "access_denied"}, headers=bound
        )
        assert denied.status_code == 403
        assert "Nhà cung cấp định danh đã từ chối đăng nhập" in denied.text
        # the provider ended that sign-in: its state is spent, a code brought later opens nothing
        late = await client.get("/auth/callback", params={"state": state, "code": "x"}, headers=bound)
        assert late.status_code == 403
        assert "unknown, used or expired state" in caplog.text
        assert "loa_tracker_session" not in late.headers.get("set-cookie", "")

"""Connect an X account from the accounts page's API, against the sandbox's OAuth 2.0
Authorization Code Flow with PKCE and ``users/me``: the token pair reaches the publisher sealed,
posts and rotates, the account shows it renews itself, the change is audited; forged, unbound and
expired states, a refused consent and a refused code connect nothing; no answer carries a
secret."""

from __future__ import annotations

import httpx
import pytest

from loa.settings import LoaSettings
from tests.integration.tracker.connect_support import (
    UNIT,
    account_changes,
    assert_refusals,
    connect_tracker,
    consent,
    sealed_credentials,
)
from tests.integration.tracker.support import auth

pytestmark = pytest.mark.integration

CLIENT_ID, CLIENT_SECRET = "M1ZwTjRkVGhQN2xRcUVnOWNjYnE6MTpjaQ", "kq8Vn2Lr5Tz9Xw3Pm7Hd1Bf6Gs4Jc0Ya"
BODY = {"name": "x-so-da-nang", "unit": UNIT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


async def _declare(sandbox_url: str) -> None:
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "user_id": "1590001",
        "username": "SoTTTTDaNang",
    }
    async with httpx.AsyncClient(base_url=sandbox_url) as x:
        await x.post("/x/_oauth2_clients", json=client)


async def test_connect_an_x_account_through_oauth2_with_pkce(
    settings: LoaSettings, sqlite_url: str, sandbox_url: str
) -> None:
    await _declare(sandbox_url)
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (ts, _, client):
        callback, asked = await consent(client, "x", BODY)
        assert asked["scope"] == ["tweet.read tweet.write users.read offline.access media.write"]
        assert asked["code_challenge_method"] == ["S256"]
        done = await client.get(callback)
        assert done.status_code == 200, done.text

        (account,) = listed = (await client.get("/api/v1/accounts", headers=auth("admin"))).json()
        assert (account["channel"], account["name"], account["unit"]) == ("x", BODY["name"], UNIT)
        assert account["credential_names"] == [
            "client_id",
            "client_secret",
            "oauth2_access_token",
            "oauth2_expires_at",
            "oauth2_refresh_token",
        ]
        assert account["expires_at"] is None and account["refresh_token"] is True
        (change,) = await account_changes(client)
        assert change["outcome"] == "ok"

        creds = await sealed_credentials(ts, "x", BODY["name"])
        async with httpx.AsyncClient(base_url=sandbox_url) as x:
            bearer = {"Authorization": f"Bearer {creds['oauth2_access_token']}"}
            posted = await x.post("/x/2/tweets", headers=bearer, json={"text": "Đà Nẵng: thông cáo báo chí"})
            assert posted.status_code == 201, posted.text
            form = {"grant_type": "refresh_token", "refresh_token": creds["oauth2_refresh_token"]}
            rotated = await x.post("/x/2/oauth2/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
            assert (
                rotated.status_code == 200
                and rotated.json()["refresh_token"] != creds["oauth2_refresh_token"]
            )
        for text in (done.text, str(listed), str(change)):
            assert all(v not in text for k, v in creds.items() if k != "client_id" and "expires" not in k)


async def test_x_connect_refusals(settings: LoaSettings, sqlite_url: str, sandbox_url: str) -> None:
    await _declare(sandbox_url)
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (_, app, client):
        pages = await assert_refusals(app, client, sandbox_url, "x", BODY, {"client_secret": "sai0secret"})
    assert "unauthorized_client" in pages[1]
    assert all(CLIENT_SECRET not in p for p in pages)

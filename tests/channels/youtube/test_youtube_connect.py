"""Connect a YouTube channel from the accounts page's API, against the sandbox's Google OAuth 2.0
(offline access, consent prompt, PKCE S256) and ``channels.list?mine=true``: the refresh token
reaches the publisher sealed and refreshes, the account names its channel, shows it renews itself,
the change is audited; forged, unbound and expired states, a refused consent and a refused code
connect nothing; no answer carries a secret."""

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

CLIENT_ID = "318273645091-4k2j8f7d6s5a.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-7hQm2Xr9LwZp4Tn6Vb8Kc1Ds"
BODY = {"name": "kenh-so-da-nang", "unit": UNIT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


async def _declare(sandbox_url: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox_url) as google:
        await google.post(
            "/_sandbox/youtube/clients", json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        )


async def test_connect_a_channel_through_google_oauth_with_pkce(
    settings: LoaSettings, sqlite_url: str, sandbox_url: str
) -> None:
    await _declare(sandbox_url)
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (ts, _, client):
        callback, asked = await consent(client, "youtube", BODY)
        assert asked["access_type"] == ["offline"] and asked["prompt"] == ["consent"]
        assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
        assert "https://www.googleapis.com/auth/youtube.upload" in asked["scope"][0].split()
        done = await client.get(callback)
        assert done.status_code == 200, done.text

        (account,) = listed = (await client.get("/api/v1/accounts", headers=auth("admin"))).json()
        assert (account["channel"], account["name"], account["unit"]) == ("youtube", BODY["name"], UNIT)
        assert account["credential_names"] == ["client_id", "client_secret", "refresh_token"]
        assert account["expires_at"] is None and account["refresh_token"] is True
        channel_id = account["options"]["channel_id"]
        assert channel_id.startswith("UC")
        (change,) = await account_changes(client)
        assert (change["outcome"], change["actor"]) == ("ok", "admin")

        creds = await sealed_credentials(ts, "youtube", BODY["name"])
        async with httpx.AsyncClient(base_url=sandbox_url) as google:
            refreshed = await google.post(
                "/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": creds["refresh_token"],
                    "client_id": creds["client_id"],
                    "client_secret": creds["client_secret"],
                },
            )
            token = refreshed.json()["access_token"]
            mine = await google.get(
                "/youtube/v3/channels",
                params={"part": "id", "mine": "true"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert mine.json()["items"][0]["id"] == channel_id, "the refresh token is the channel's"
        for text in (done.text, str(listed), str(change)):
            assert CLIENT_SECRET not in text and creds["refresh_token"] not in text


async def test_youtube_connect_refusals(settings: LoaSettings, sqlite_url: str, sandbox_url: str) -> None:
    await _declare(sandbox_url)
    async with connect_tracker(settings, sqlite_url, sandbox_url) as (_, app, client):
        pages = await assert_refusals(
            app, client, sandbox_url, "youtube", BODY, {"client_secret": "GOCSPX-sai"}
        )
    assert "invalid_client" in pages[1]
    assert all(CLIENT_SECRET not in p for p in pages)

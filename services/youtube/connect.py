"""Connect a YouTube channel (Google's OAuth 2.0 for web server applications, with PKCE), run by
``services.tracker.connect``, as Google documents it
(https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps and
https://developers.google.com/identity/protocols/oauth2/web-server):

1. ``https://accounts.google.com/o/oauth2/v2/auth?client_id=&redirect_uri=&response_type=code
   &scope=&access_type=offline&prompt=consent&state=&code_challenge=&code_challenge_method=S256``:
   ``offline`` for a refresh token, ``prompt=consent`` so Google issues one again on a re-connect;
2. ``POST https://oauth2.googleapis.com/token`` (``code``, ``client_id``, ``client_secret``,
   ``redirect_uri``, ``grant_type=authorization_code``, ``code_verifier``) → ``access_token``,
   ``refresh_token``; errors are RFC 6749 ``error`` / ``error_description``;
3. ``channels.list?part=id&mine=true`` with that access token: the channel's id.

The publisher gets the refresh token and the client (google-auth refreshes with both); the
account has no expiry: Google's refresh token lasts until revoked (or six months unused).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from services.tracker.connect_flow import (
    AppSecret,
    Back,
    Connected,
    ConnectError,
    ConnectRequest,
    Start,
    oauth_error,
    platform_json,
)
from services.tracker.settings import TrackerSettings
from services.youtube.settings import SCOPES


class YouTubeConnect(ConnectRequest):
    client_id: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9._-]{1,200}$",
            description="the OAuth client id of the office's Google Cloud project",
        ),
    ]
    client_secret: AppSecret


class YouTubeFlow:
    channel: ClassVar[str] = "youtube"
    request_model: ClassVar[type[ConnectRequest]] = YouTubeConnect

    def authorize_url(self, settings: TrackerSettings, body: YouTubeConnect, start: Start) -> str:
        query = start.code_request(body.client_id, " ".join(SCOPES), access_type="offline", prompt="consent")
        return f"{settings.youtube_auth_url}?{query}"

    async def finish(self, settings: TrackerSettings, body: YouTubeConnect, back: Back) -> Connected:
        form = back.code_grant(body.client_id) | {"client_secret": body.client_secret.get_secret_value()}
        status, tokens = await platform_json("Google", "POST", settings.youtube_token_url, data=form)
        if status != 200 or not tokens.get("access_token"):
            raise oauth_error("Google", status, tokens)
        if not tokens.get("refresh_token"):
            raise ConnectError("Google gave no refresh token: the grant must be offline (access_type)")
        channel = await _channel_id(settings, str(tokens["access_token"]))
        credentials = {
            "client_id": body.client_id,
            "client_secret": body.client_secret.get_secret_value(),
            "refresh_token": str(tokens["refresh_token"]),
        }
        return Connected(credentials, {"channel_id": channel}, None, f"channel {channel}")


async def _channel_id(settings: TrackerSettings, access_token: str) -> str:
    status, data = await platform_json(
        "YouTube",
        "GET",
        f"{settings.youtube_api_url.rstrip('/')}/youtube/v3/channels",
        params={"part": "id", "mine": "true"},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    items = data.get("items") if status == 200 else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        reason = (
            data.get("error", {}).get("message", "no channel")
            if isinstance(data.get("error"), dict)
            else "no channel"
        )
        raise ConnectError(f"YouTube did not name the account's channel: {str(reason)[:200]} ({status})")
    return str(items[0]["id"])

"""Connect an X account (OAuth 2.0 Authorization Code Flow with PKCE), run by
``services.tracker.connect``, as X documents it
(docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code and
…/oauth-2-0/user-access-token):

1. ``https://twitter.com/i/oauth2/authorize?response_type=code&client_id=&redirect_uri=&scope=
   &state=&code_challenge=&code_challenge_method=S256``;
2. ``POST https://api.twitter.com/2/oauth2/token`` (a confidential client: HTTP Basic
   ``client_id:client_secret``; ``code``, ``grant_type=authorization_code``, ``redirect_uri``,
   ``code_verifier``) → an access token (2 hours) and, with ``offline.access``, a refresh token
   that rotates on every refresh (``services.x.oauth2``);
3. ``GET /2/users/me``: who the account is.

Scopes: ``tweet.read tweet.write users.read`` (post, read back, delete), ``offline.access`` (the
refresh token), ``media.write`` (the v2 media upload). The account has no expiry: the publisher
renews the pair before the access token's 2 hours end.
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
from services.x.oauth2 import TOKEN_PATH, pair_from

SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")


class XConnect(ConnectRequest):
    client_id: Annotated[
        str,
        Field(pattern=r"^[A-Za-z0-9_-]{1,100}$", description="the OAuth 2.0 client id of the office's X app"),
    ]
    client_secret: AppSecret


class XFlow:
    channel: ClassVar[str] = "x"
    request_model: ClassVar[type[ConnectRequest]] = XConnect

    def authorize_url(self, settings: TrackerSettings, body: XConnect, start: Start) -> str:
        return f"{settings.x_authorize_url}?{start.code_request(body.client_id, ' '.join(SCOPES))}"

    async def finish(self, settings: TrackerSettings, body: XConnect, back: Back) -> Connected:
        secret = body.client_secret.get_secret_value()
        form = back.code_grant(body.client_id)
        base = settings.x_api_url.rstrip("/")
        status, tokens = await platform_json(
            "X", "POST", base + TOKEN_PATH, data=form, auth=(body.client_id, secret)
        )
        if status != 200 or not tokens.get("access_token") or not tokens.get("refresh_token"):
            raise oauth_error("X", status, tokens)
        status, me = await platform_json(
            "X", "GET", base + "/2/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        user = me.get("data") if status == 200 else None
        if not isinstance(user, dict) or not user.get("id"):
            raise ConnectError(f"X did not say who the account is (users/me answered {status})")
        credentials = {"client_id": body.client_id, "client_secret": secret} | pair_from(tokens)
        return Connected(credentials, {}, None, f"@{user.get('username', '')} ({user['id']})")

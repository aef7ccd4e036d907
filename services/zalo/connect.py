"""Connect a Zalo Official Account (OAuth v4 with PKCE), run by ``services.tracker.connect``.

Zalo's "Official Account API: Xác thực và ủy quyền cho ứng dụng" (developers.zalo.me, OAuth v4):
``https://oauth.zaloapp.com/v4/oa/permission?app_id=&redirect_uri=&code_challenge=&state=``, then
``POST /v4/oa/access_token`` (header ``secret_key``; ``code``, ``app_id``,
``grant_type=authorization_code``, ``code_verifier``) → ``access_token`` (25 h), ``refresh_token``
(3 months, single-use). Zalo answers errors as ``{"error": <negative number>, "error_name"}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from pydantic import Field

from loa.events import utcnow
from services.tracker.connect_flow import (
    AppSecret,
    Back,
    Connected,
    ConnectError,
    ConnectRequest,
    Start,
    platform_json,
)
from services.tracker.settings import TrackerSettings

REFRESH_LIFETIME = timedelta(days=90)
"""A Zalo OA refresh token lives about 3 months: the account's expiry until it is renewed."""


class ZaloConnect(ConnectRequest):
    app_id: Annotated[str, Field(pattern=r"^[0-9]{1,32}$", description="the office's Zalo app id")]
    secret_key: AppSecret


class ZaloFlow:
    channel: ClassVar[str] = "zalo"
    request_model: ClassVar[type[ConnectRequest]] = ZaloConnect

    def authorize_url(self, settings: TrackerSettings, body: ZaloConnect, start: Start) -> str:
        query = {
            "app_id": body.app_id,
            "redirect_uri": start.redirect_uri,
            "code_challenge": start.challenge,
            "state": start.state,
        }
        return f"{settings.zalo_oauth_url.rstrip('/')}/v4/oa/permission?{urlencode(query)}"

    async def finish(self, settings: TrackerSettings, body: ZaloConnect, back: Back) -> Connected:
        form = {
            "app_id": body.app_id,
            "code": back.code,
            "grant_type": "authorization_code",
            "code_verifier": back.verifier,
        }
        _, data = await platform_json(
            "Zalo",
            "POST",
            settings.zalo_oauth_url.rstrip("/") + "/v4/oa/access_token",
            data=form,
            headers={"secret_key": body.secret_key.get_secret_value()},
        )
        if not data.get("access_token") or not data.get("refresh_token"):
            raise _refused(data)
        credentials = {
            "app_id": body.app_id,
            "secret_key": body.secret_key.get_secret_value(),
            "access_token": str(data["access_token"]),
            "refresh_token": str(data["refresh_token"]),
        }
        oa = back.params.get("oa_id", "")
        return Connected(credentials, {}, utcnow() + REFRESH_LIFETIME, f"OA {oa}")


def _refused(data: dict[str, Any]) -> ConnectError:
    return ConnectError(
        f"Zalo refused the code: {data.get('error_name', 'no token')} ({data.get('error', '')})"
    )

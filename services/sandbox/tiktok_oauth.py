"""TikTok OAuth v2, the part the publisher uses: ``POST /v2/oauth/token/`` with
``grant_type=refresh_token`` (developers.tiktok.com/doc/oauth-user-access-token-management).

Form ``client_key``, ``client_secret``, ``grant_type``, ``refresh_token`` → ``access_token``,
``expires_in`` (86400), ``open_id``, ``refresh_expires_in`` (31536000), ``refresh_token``, ``scope``,
``token_type``. The refresh token rotates: the one presented stops working (…/docs/en/
oauth-refresh-a-user-access-token). A refusal is ``{"error", "error_description", "log_id"}``
(…/doc/oauth-error-handling: ``invalid_client``, ``invalid_grant``, ``unsupported_grant_type``);
the emulator answers it with 400, as RFC 6749 §5.2 does. ``POST /tiktok/_creators`` declares a
creator, the app it authorised and its first token pair (sandbox control).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.sandbox.frame import sandbox
from services.sandbox.tiktok import PLATFORM, Creator, state

ACCESS_TTL = timedelta(hours=24)
REFRESH_TTL = timedelta(days=365)
SCOPE = "user.info.basic,video.publish"
router = APIRouter(prefix="/tiktok", tags=["TikTok OAuth v2 emulator"])


class CreatorIn(BaseModel):
    open_id: str
    username: str
    nickname: str = ""
    client_key: str
    client_secret: str
    access_token: str
    refresh_token: str
    access_expires_in: int = int(ACCESS_TTL.total_seconds())
    privacy_level_options: list[str] = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    comment_disabled: bool = False
    max_video_post_duration_sec: int = 600


@router.post("/_creators")
def add_creator(body: CreatorIn) -> dict[str, str]:
    """Sandbox control: a creator who authorised the app ``client_key``, with its token pair."""
    state.creators[body.open_id] = Creator(
        body.open_id,
        body.username,
        body.nickname or body.username,
        body.privacy_level_options,
        comment_disabled=body.comment_disabled,
        max_video_post_duration_sec=body.max_video_post_duration_sec,
    )
    state.clients[body.client_key] = body.client_secret
    now = sandbox.now()
    state.access[body.access_token] = (body.open_id, now + timedelta(seconds=body.access_expires_in))
    state.refresh[body.refresh_token] = (body.open_id, body.client_key, now + REFRESH_TTL)
    return {"open_id": body.open_id}


@router.post("/_creators/{open_id}/expire")
def expire(open_id: str) -> dict[str, int]:
    """Sandbox control: the creator's access tokens expire now (its refresh tokens still work)."""
    gone = [t for t, (owner, _) in state.access.items() if owner == open_id]
    for token in gone:
        state.access[token] = (open_id, sandbox.now() - timedelta(seconds=1))
    return {"expired": len(gone)}


@router.post("/_creators/{open_id}/revoke")
def revoke(open_id: str) -> dict[str, int]:
    """Sandbox control: the creator removed the app: every token of theirs stops working."""
    access = [t for t, (owner, _) in state.access.items() if owner == open_id]
    refresh = [t for t, (owner, _, _) in state.refresh.items() if owner == open_id]
    for token in access:
        del state.access[token]
    for token in refresh:
        del state.refresh[token]
    return {"revoked": len(access) + len(refresh)}


def _refused(error: str, description: str) -> JSONResponse:
    body = {"error": error, "error_description": description, "log_id": secrets.token_hex(10)}
    return JSONResponse(body, status_code=400)


@router.post("/v2/oauth/token/")
async def token(request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    form = await request.form()
    client_key = str(form.get("client_key", ""))
    secret = state.clients.get(client_key)
    if secret is None or not secrets.compare_digest(secret, str(form.get("client_secret", ""))):
        return _refused("invalid_client", "Client key or secret is invalid.")
    if form.get("grant_type") != "refresh_token":
        return _refused("unsupported_grant_type", "The sandbox emulates grant_type=refresh_token only.")
    issued = state.refresh.pop(str(form.get("refresh_token", "")), None)
    if issued is None or issued[1] != client_key or issued[2] <= sandbox.now():
        return _refused("invalid_grant", "Refresh token is invalid or expired.")
    open_id = issued[0]
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = sandbox.now()
    state.access[access] = (open_id, now + ACCESS_TTL)
    state.refresh[refresh] = (open_id, client_key, now + REFRESH_TTL)
    state.refreshes += 1
    sandbox.record(PLATFORM, "token_refresh", {"open_id": open_id, "n": state.refreshes})
    answer: dict[str, Any] = {
        "access_token": access,
        "expires_in": int(ACCESS_TTL.total_seconds()),
        "open_id": open_id,
        "refresh_expires_in": int(REFRESH_TTL.total_seconds()),
        "refresh_token": refresh,
        "scope": SCOPE,
        "token_type": "Bearer",
    }
    return JSONResponse(answer)

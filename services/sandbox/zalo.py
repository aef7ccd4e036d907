"""Zalo Official Account emulator: articles, video upload, follower broadcast, quota, OAuth v4.

Zalo answers HTTP 200 with ``{"error": <int>, "message": ...}`` (0 = success), so clients must
read the body, never the status alone. Shapes follow the OA and Article API documentation on
developers.zalo.me (article: tao-bai-viet-post-2756, lay-id-bai-viet-...-post-2977,
cap-nhat-bai-viet-post-2925, xoa-bai-viet-post-2927, lay-danh-sach-bai-viet-post-2930; video:
tai-len-video-cho-article-post-3007; quota: ...-quota-lenh-chu-dong-mien-phi-post-5149) as used
by public SDKs. Tokens: an access token lives 90,000 s (25 h); a refresh token about 3 months and
is **single-use**: each refresh returns a new pair and the old refresh token dies.
Error codes (the OA API error table, developers.zalo.me): -216 invalid access token, -220 access
token expired or removed, -211 out of quota (a broadcast past the day's quota), -201 invalid
parameter; from public clients (marked "unconfirmed" in services/zalo/README.md, the emulator's
best reading of public code): -214 article still processing, -32 rate limit, -14014 invalid
refresh token.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.sandbox.frame import Answer, Fault, PresetArgs, PresetBuilder, sandbox
from services.sandbox.oauth_consent import back_to, codes

PLATFORM = "zalo"
ACCESS_TTL = timedelta(seconds=90_000)
REFRESH_TTL = timedelta(days=90)
router = APIRouter(prefix="/zalo", tags=["Zalo OA emulator"])

TITLE_MAX, AUTHOR_MAX, DESCRIPTION_MAX = 150, 50, 300
VIDEO_MAX_BYTES = 50 * 1024 * 1024
# upload_video/verify statuses as public clients read them: 1 usable, 2 locked, 3 processing,
# 4 failed, 5 deleted.
VIDEO_READY, VIDEO_PROCESSING = 1, 3


@dataclass
class App:
    app_id: str
    secret_key: str
    oa_id: str
    refresh_tokens: dict[str, datetime] = field(default_factory=dict)  # live ones → expiry
    used_refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: dict[str, datetime] = field(default_factory=dict)
    broadcasts_remaining: int = 1000
    """Article broadcasts left today: a broadcast past it answers -211 "out of quota"."""
    consultation_remaining: int = 2000
    """Free consultation messages of the OA's package ("active" quota): not spent by broadcasts."""
    refreshes: int = 0


@dataclass
class ZaloState:
    apps: dict[str, App] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # create token → job
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)  # upload token → video
    ready: set[str] = field(default_factory=set)
    """The ``video_id`` of every processed video (a video article may use it)."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    refresh_delay_ms: tuple[int, int] = (0, 0)
    """OAuth refresh: wait this long before rotating the pair and after (a slow link either way)."""
    refreshing: int = 0
    """Refresh requests being handled now (tests kill a client in the middle of one)."""
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_000_001))


state = ZaloState()


def ok(data: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": 0, "message": "Success"}
    if data is not None:
        body["data"] = data
    return JSONResponse(body)


def error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message})


def issue_pair(app: App) -> dict[str, str]:
    now = sandbox.now()
    access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    app.access_tokens[access] = now + ACCESS_TTL
    app.refresh_tokens[refresh] = now + REFRESH_TTL
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": str(int(ACCESS_TTL.total_seconds())),
    }


async def _authorize(request: Request) -> App:
    """Faults, then the OA's access token (else ``Answer`` with Zalo's error)."""
    await sandbox.enter(PLATFORM, request.url.path)
    token = request.headers.get("access_token", "")
    for app in state.apps.values():
        expiry = app.access_tokens.get(token)
        if expiry is None:
            continue
        if expiry <= sandbox.now():
            raise Answer(error(-220, "Your access token has expired or has been removed"))
        return app
    raise Answer(error(-216, "Access token is invalid"))


@router.get("/oauth/v4/oa/permission")
async def permission(
    request: Request,
    app_id: str,
    redirect_uri: str,
    code_challenge: str = "",
    state_: str = Query("", alias="state"),
) -> Response:
    """OAuth v4, step 1 ("Official Account API: Xác thực và ủy quyền cho ứng dụng", developers.zalo.me,
    https://oauth.zaloapp.com/v4/oa/permission?app_id=&redirect_uri=&code_challenge=&state=): the
    OA's admin grants the app and Zalo redirects to ``redirect_uri`` with ``oa_id``, ``code`` and
    ``state``. The emulator grants at once (there is no person to sign in); an unknown app gets
    Zalo's error instead of a redirect."""
    await sandbox.enter(PLATFORM, request.url.path)
    app = state.apps.get(app_id)
    if app is None:
        return JSONResponse({"error": -14001, "error_name": "Invalid app", "error_description": "app_id"})
    code = codes(PLATFORM).issue(app_id, redirect_uri, code_challenge, app.oa_id)
    return back_to(redirect_uri, oa_id=app.oa_id, code=code, state=state_, code_challenge=code_challenge)


@router.post("/oauth/v4/oa/access_token")
async def access_token(request: Request) -> Response:
    """OAuth v4: exchange a refresh token (single-use) for a new pair, or step 2 of the
    authorisation (``grant_type=authorization_code``, ``code``, ``code_verifier``: PKCE S256)."""
    await sandbox.enter(PLATFORM, request.url.path)
    form = await request.form()
    app = state.apps.get(str(form.get("app_id", "")))
    if app is None or request.headers.get("secret_key") != app.secret_key:
        return JSONResponse(
            {"error": -14001, "error_name": "Invalid app", "error_description": "app_id or secret_key"}
        )
    if form.get("grant_type") == "authorization_code":
        return _exchange(app, str(form.get("code", "")), str(form.get("code_verifier", "")))
    state.refreshing += 1
    try:
        return await _rotate(app, str(form.get("refresh_token", "")), form.get("grant_type"))
    finally:
        state.refreshing -= 1


def _exchange(app: App, code: str, verifier: str) -> Response:
    """A code is single-use, lives 10 minutes and opens only with the verifier of its challenge
    (Zalo's step 2 sends no ``redirect_uri``)."""
    grant = codes(PLATFORM).redeem(code, app.app_id, verifier=verifier, redirect_uri=None)
    if isinstance(grant, str):
        name = "Invalid code verifier" if grant == "code_verifier" else "Invalid code"
        return JSONResponse({"error": -14019, "error_name": name, "error_description": grant})
    sandbox.record(PLATFORM, "authorized", {"app_id": app.app_id})
    return JSONResponse(issue_pair(app))


async def _rotate(app: App, refresh: str, grant_type: object) -> Response:
    before, after = state.refresh_delay_ms
    await asyncio.sleep(before / 1000)
    expiry = app.refresh_tokens.pop(refresh, None)
    if grant_type != "refresh_token" or expiry is None or expiry <= sandbox.now():
        reused = refresh in app.used_refresh_tokens
        # which token (a digest, never the token): tests tell a lost pair from a reuse
        digest = hashlib.sha256(refresh.encode()).hexdigest()[:16]
        sandbox.record(PLATFORM, "refresh_refused", {"reused": reused, "token_sha256": digest})
        return JSONResponse(
            {
                "error": -14014,
                "error_name": "Invalid refresh token",
                "error_description": "refresh token was used or expired" if reused else "unknown",
            }
        )
    app.used_refresh_tokens.add(refresh)
    app.refreshes += 1
    sandbox.record(PLATFORM, "refresh", {"app_id": app.app_id, "n": app.refreshes})
    pair = issue_pair(app)  # the old pair is dead from here on, whether the answer arrives or not
    await asyncio.sleep(after / 1000)
    return JSONResponse(pair)


def _check_article(body: dict[str, Any]) -> JSONResponse | None:
    """Refuse what Zalo refuses, naming the field (limits: services/zalo/README.md)."""
    if body.get("type") not in {"normal", "video"}:
        return error(-201, "type accept only 2 value normal and video.")
    required = {"title", "author"} if body["type"] == "normal" else {"title"}
    for name, limit in (("title", TITLE_MAX), ("author", AUTHOR_MAX), ("description", DESCRIPTION_MAX)):
        value = body.get(name) or ""
        if name in required and not value:
            return error(-201, f"{name} is required")
        if len(value) > limit:
            return error(-201, f"{name} exceeds {limit} characters")
    if body["type"] == "video":  # video_id + avatar (zalo-java-sdk CreateVideoArticle.java)
        if body.get("video_id") not in state.ready:
            return error(-201, "video_id is invalid or the video is not processed yet")
        if not body.get("avatar"):
            return error(-201, "avatar is required")
    if body.get("type") == "normal" and not body.get("body"):
        return error(-201, "body is required")
    for item in body.get("body") or []:
        if item.get("type") not in {"text", "image", "video", "product"}:
            return error(-201, f"body item type {item.get('type')!r} is invalid")
    return None


@router.post("/openapi/v2.0/article/create")
async def article_create(request: Request) -> Response:
    app = await _authorize(request)
    body = await request.json()
    refused = _check_article(body)
    if refused is not None:
        return refused
    token = secrets.token_hex(12)
    # Zalo goes on with an article it accepted whether or not its caller hears the answer or ever
    # verifies: it is in the OA's list from here on; ``verify`` only reveals its id, once processed.
    article_id = hashlib.sha256(f"{token}{next(state.ids)}".encode()).hexdigest()[:24]
    state.pending[token] = {"app": app.oa_id, "article": body, "polls": 0, "made": article_id}
    state.articles[article_id] = {
        **body,
        "id": article_id,
        "oa_id": app.oa_id,
        "create_date": int(sandbox.now().timestamp() * 1000),
        "url": f"https://zalo.me/s/{app.oa_id}/{article_id}",
    }
    sandbox.record(PLATFORM, "article", {"id": article_id, **body})
    return ok({"token": token})


@router.post("/openapi/v2.0/article/verify")
async def article_verify(request: Request) -> Response:
    """Creation is asynchronous: -214 until the article is ready, then its id."""
    await _authorize(request)
    token = (await request.json()).get("token", "")
    job = state.pending.get(token)
    if job is None:
        return error(-201, "token is invalid")
    if "id" not in job:
        job["polls"] += 1
        if job["polls"] <= sandbox.processing_checks[PLATFORM]:
            return error(-214, "Article is being processed")
        job["id"] = job["made"]
    return ok({"id": job["id"]})


@router.post("/openapi/v2.0/article/update")
async def article_update(request: Request) -> Response:
    app = await _authorize(request)
    body = await request.json()
    article = state.articles.get(body.get("id", ""))
    if article is None or article["oa_id"] != app.oa_id:
        return error(-201, "article id is invalid")
    refused = _check_article(body)
    if refused is not None:
        return refused
    article.update({k: v for k, v in body.items() if k != "id"})
    sandbox.record(PLATFORM, "article_update", {"id": article["id"], **body})
    return ok({"token": secrets.token_hex(12)})


@router.post("/openapi/v2.0/article/remove")
async def article_remove(request: Request) -> Response:
    app = await _authorize(request)
    article_id = (await request.json()).get("id", "")
    article = state.articles.get(article_id)
    if article is None or article["oa_id"] != app.oa_id:
        return error(-201, "article id is invalid")
    del state.articles[article_id]
    sandbox.record(PLATFORM, "article_remove", {"id": article_id})
    return ok()


@router.get("/openapi/v2.0/article/getslice")
async def article_getslice(
    request: Request, offset: int = 0, limit: int = 10, type: str = "normal"
) -> Response:
    app = await _authorize(request)
    if type not in {"normal", "video"}:
        return error(-201, "type accept only 2 value normal and video.")
    mine = [a for a in state.articles.values() if a["oa_id"] == app.oa_id and a["type"] == type]
    mine.sort(key=lambda a: a["create_date"], reverse=True)
    page = mine[offset : offset + min(limit, 10)]  # at most 10 a call
    medias = [
        {
            "id": a["id"],
            "title": a["title"],
            "description": a.get("description", ""),
            "status": a.get("status", "show"),
            "create_date": a["create_date"],
            "link_view": a["url"],
        }
        for a in page
    ]
    return ok({"medias": medias, "total": len(mine)})


@router.get("/openapi/v2.0/article/getdetail")
async def article_getdetail(request: Request, id: str) -> Response:
    app = await _authorize(request)
    article = state.articles.get(id)
    if article is None or article["oa_id"] != app.oa_id:
        return error(-201, "article id is invalid")
    return ok(article)


@router.post("/openapi/v2.0/article/upload_video/preparevideo")
async def video_prepare(request: Request) -> Response:
    await _authorize(request)
    form = await request.form()
    upload = form["file"]
    digest, size = hashlib.sha256(), 0
    while chunk := await upload.read(1024 * 1024):  # type: ignore[union-attr]
        digest.update(chunk)
        size += len(chunk)
    if size > VIDEO_MAX_BYTES:
        return error(-201, "video exceeds 50 MB")
    token = secrets.token_hex(12)
    state.videos[token] = {
        "video_id": f"v{next(state.ids)}",
        "size": size,
        "sha256": digest.hexdigest(),
        "content_type": upload.content_type,  # type: ignore[union-attr]
        "polls": 0,
        "status": VIDEO_PROCESSING,
    }
    sandbox.record(PLATFORM, "video", state.videos[token])
    return ok({"token": token})


@router.get("/openapi/v2.0/article/upload_video/verify")
async def video_verify(request: Request) -> Response:
    """Status 3 (processing) until the video is ready, then 1 with its ``video_id``."""
    await _authorize(request)
    video = state.videos.get(request.headers.get("token", ""))
    if video is None:
        return error(-201, "token is invalid")
    video["polls"] += 1
    if video["polls"] > sandbox.processing_checks[PLATFORM]:
        video["status"] = VIDEO_READY
        state.ready.add(video["video_id"])
    ready = video["status"] == VIDEO_READY
    return ok(
        {
            "video_id": video["video_id"],
            "status": video["status"],
            "convert_percent": 100 if ready else 50,
            "status_message": "Video is ready" if ready else "Video is processing",
        }
    )


@router.post("/openapi/v2.0/oa/quota/message")
async def quota(request: Request) -> Response:
    """Without ``message_id``: the free consultation-message quota of the OA's package (``type``
    ``active``; https://www.hexasync.vn/zalo-oa-api-huong-dan-cach-lay-quota-tin-tu-van-trong-zalo-oa-bang-postman/
    quotes developers.zalo.me). It says nothing about article broadcasts."""
    app = await _authorize(request)
    return ok({"type": "active", "remain": app.consultation_remaining, "total": 2000})


@router.post("/openapi/v2.0/oa/message")
async def broadcast(request: Request) -> Response:
    """A broadcast of an article to followers (template ``media``, ``media_type: article``)."""
    app = await _authorize(request)
    body = await request.json()
    elements = body.get("message", {}).get("attachment", {}).get("payload", {}).get("elements", [])
    if (
        not elements
        or elements[0].get("media_type") != "article"
        or elements[0].get("attachment_id") not in state.articles
    ):
        return error(-201, "message.attachment.payload.elements[0] must be an existing article")
    if app.broadcasts_remaining <= 0:
        return error(-211, "Out of quota")
    app.broadcasts_remaining -= 1
    message_id = secrets.token_hex(10)
    state.messages.append({"message_id": message_id, "article_id": elements[0]["attachment_id"]})
    sandbox.record(PLATFORM, "broadcast", state.messages[-1])
    return ok({"message_id": message_id})


@router.post("/_apps")
async def add_app(request: Request) -> dict[str, str]:
    """Sandbox control: register an app + OA and get its first token pair (as after authorisation)."""
    body = await request.json()
    app = App(app_id=body["app_id"], secret_key=body["secret_key"], oa_id=body["oa_id"])
    state.apps[app.app_id] = app
    return issue_pair(app)


@router.post("/_expire")
async def expire_access_tokens(app_id: str) -> dict[str, int]:
    """Sandbox control: every access token of the app expires now."""
    app = state.apps[app_id]
    for token in app.access_tokens:
        app.access_tokens[token] = sandbox.now() - timedelta(seconds=1)
    return {"expired": len(app.access_tokens)}


@router.post("/_refresh_delay")
async def refresh_delay(before_ms: int = 0, after_ms: int = 0) -> dict[str, int]:
    """Sandbox control: slow OAuth refreshes down, before and/or after the pair is rotated."""
    state.refresh_delay_ms = (before_ms, after_ms)
    return {"before_ms": before_ms, "after_ms": after_ms}


@router.get("/_apps/{app_id}")
async def app_tokens(app_id: str) -> dict[str, Any]:
    """Sandbox control: how many refreshes an app made and how many refresh tokens are live."""
    app = state.apps[app_id]
    return {"refreshes": app.refreshes, "live_refresh_tokens": len(app.refresh_tokens)}


def _zalo_error(code: int, message: str) -> PresetBuilder:
    """Zalo's faults come as HTTP 200 with the code in the body."""
    return lambda args: Fault(args.platform, 200, {"error": code, "message": message})


def _preset_server_error(args: PresetArgs) -> Fault:
    # Zalo documents no code for an outage: its gateway answers HTTP 5xx.
    return Fault(args.platform, 503, {"error": -1, "message": "Service unavailable"})


sandbox.register_presets(
    PLATFORM,
    {
        "expired_token": _zalo_error(-220, "Your access token has expired or has been removed"),
        "rate_limit": _zalo_error(-32, "Exceeded the limit of requests"),
        "server_error": _preset_server_error,
    },
)
sandbox.on_reset(lambda: state.__init__())  # type: ignore[misc]
sandbox.register_card(
    PLATFORM,
    """{% if data.cover %}
<p><img src="{{ data.cover.photo_url | http_url }}" alt="" style="max-width:100%"></p>{% endif %}
<h3>{{ data.title }}</h3>
<p class="meta">{{ data.author }}</p>
<p><em>{{ data.description }}</em></p>
{% if data.avatar %}<p><img src="{{ data.avatar | http_url }}" alt="" style="max-width:100%"></p>
<p class="meta">▶ video {{ data.video_id }}</p>{% endif %}
{% for item in data.body or [] %}
  {% if item.type == "text" %}<p>{{ item.content }}</p>
  {% elif item.type == "image" %}<figure><img src="{{ item.url | http_url }}" alt="{{ item.caption }}"
    style="max-width:100%"><figcaption>{{ item.caption }}</figcaption></figure>{% endif %}
{% endfor %}
<p class="meta">bài viết {{ data.id }}</p>""",
    kinds={"article"},
    visible=lambda record: record.data["id"] in state.articles,
)

"""X API v2 emulator: posts, deletes, the user timeline, chunked media upload, rate limits.

Shapes follow X's documentation (docs.x.com/x-api): ``POST /2/tweets`` answers 201
``{"data": {"id", "text", "edit_history_tweet_ids"}}``; errors are problem JSON
(``{"title", "detail", "type", "status"}``); a duplicate text is refused with 403 "You are not
allowed to create a Tweet with duplicate content." (as reported in akrherz/iembot#163); 429
carries ``x-rate-limit-reset`` and the 24-hour ``x-user-limit-24hour-*`` headers. Media uses the
v2 chunked endpoints (docs.x.com/x-api/media/quickstart/media-upload-chunked):
``/2/media/upload/initialize``, ``/{id}/append``, ``/{id}/finalize``, ``GET ?command=STATUS``;
an image's alt text goes to ``/2/media/metadata``.
OAuth 1.0a signatures are verified against the URL the client signed (api.twitter.com).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from oauthlib.oauth1.rfc5849 import signature, utils

from services.sandbox import engagement
from services.sandbox.frame import Answer, Fault, PresetArgs, sandbox

# twitter-text's parseTweet, X's JavaScript reference, run by node: never Loa's port of it, which
# the emulator checks (see the module).
from services.sandbox.x_counting import MAX_WEIGHTED_LENGTH, twitter_text

PLATFORM = "x"
SIGNED_HOST = "https://api.twitter.com"
router = APIRouter(prefix="/x", tags=["X API v2 emulator"])


@dataclass
class XUser:
    id: str
    username: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


@dataclass
class Window:
    """One rate-limit window: ``limit`` requests per ``seconds``."""

    limit: int
    seconds: int
    used: int = 0
    reset: float = 0.0

    def take(self, now: float) -> bool:
        if now >= self.reset:
            self.used, self.reset = 0, now + self.seconds
        self.used += 1
        return self.used <= self.limit

    def headers(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}-limit": str(self.limit),
            f"{prefix}-remaining": str(max(self.limit - self.used, 0)),
            f"{prefix}-reset": str(int(self.reset)),
        }


@dataclass
class XState:
    users: dict[str, XUser] = field(default_factory=dict)  # by access token
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    texts: set[tuple[str, str]] = field(default_factory=set)
    """(author id, text) of every live tweet: the duplicate check without scanning them all."""
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    # POST /2/tweets: 100 per 15 min per user (emulator default; X's tiers differ)
    tweet_window: tuple[int, int] = (100, 900)
    user_day_limit: int = 2400
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_900_000_000_000_000_001))
    # OAuth 2.0 user tokens: access token → (user, expiry); refresh token → (user, client id)
    bearer: dict[str, tuple[XUser, float]] = field(default_factory=dict)
    refresh: dict[str, tuple[XUser, str]] = field(default_factory=dict)
    used_refresh: set[str] = field(default_factory=set)
    clients: dict[str, str] = field(default_factory=dict)  # OAuth 2.0 client id → secret
    consenting: dict[str, XUser] = field(default_factory=dict)
    """OAuth 2.0 client id → the user who authorises it at the consent screen (``x_oauth2``)."""
    refreshes: int = 0


state = XState()


def _problem(status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any) -> JSONResponse:
    body = {"title": title, "detail": detail, "type": kind, "status": status, **extra}
    return JSONResponse(body, status_code=status)


def _oauth_params(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        return {}
    return dict(utils.parse_authorization_header(header))


async def _authenticate(request: Request) -> XUser | JSONResponse:
    """An OAuth 2.0 user token we issued (Bearer), or an OAuth 1.0a HMAC-SHA1 signature verified
    over the URL the client signed."""
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        issued = state.bearer.get(header.removeprefix("Bearer "))
        if issued is None or issued[1] <= time.time():
            return _problem(401, "Unauthorized", "Unauthorized")
        return issued[0]
    params = _oauth_params(header)
    user = state.users.get(params.get("oauth_token", ""))
    if user is None or params.get("oauth_consumer_key") != user.consumer_key:
        return _problem(401, "Unauthorized", "Unauthorized")
    body: bytes | None = None
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await request.body()
    signed_url = SIGNED_HOST + request.url.path.removeprefix("/x")
    collected = signature.collect_parameters(
        uri_query=request.url.query,
        body=body.decode() if body else None,
        headers={"Authorization": request.headers["authorization"]},
        exclude_oauth_signature=True,
    )
    base = signature.signature_base_string(
        request.method, signature.base_string_uri(signed_url), signature.normalize_parameters(collected)
    )
    key = f"{utils.escape(user.consumer_secret)}&{utils.escape(user.access_token_secret)}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, urllib.parse.unquote(params.get("oauth_signature", ""))):
        return _problem(401, "Unauthorized", "Unauthorized")
    return user


async def _gate(request: Request, endpoint: str) -> XUser:
    """Faults, authentication and the endpoint's rate-limit window, in X's order (else ``Answer``)."""
    await sandbox.enter(PLATFORM, request.url.path)
    user = await _authenticate(request)
    if not isinstance(user, XUser):
        raise Answer(user)
    now = time.time()
    window = state.windows.setdefault((user.id, endpoint), Window(*state.tweet_window))
    day = state.windows.setdefault((user.id, "day"), Window(state.user_day_limit, 86400))
    if not window.take(now) or (endpoint == "tweets" and not day.take(now)):
        response = _problem(429, "Too Many Requests", "Too Many Requests")
        response.headers.update(window.headers("x-rate-limit"))
        response.headers.update(day.headers("x-user-limit-24hour"))
        raise Answer(response)
    request.state.rate_headers = {**window.headers("x-rate-limit"), **day.headers("x-user-limit-24hour")}
    return user


def _with_limits(request: Request, body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=getattr(request.state, "rate_headers", {}))


CitizenReply = Callable[[str], dict[str, Any] | None]
CITIZEN_REPLIES: list[CitizenReply] = []
"""Finders of a citizens' reply by id (``x_replies``): the conversation's first post, or None."""


def conversation_of(reply_to: str | None) -> str | None:
    """The conversation a reply to ``reply_to`` joins: a post's own, or a citizen reply's."""
    if reply_to is None:
        return None
    if reply_to in state.tweets:
        return str(state.tweets[reply_to].get("conversation_id") or reply_to)
    for find in CITIZEN_REPLIES:
        found = find(reply_to)
        if found is not None:
            return str(found["id"])
    return None


@router.post("/2/tweets")
async def create_tweet(request: Request) -> Response:
    user = await _gate(request, "tweets")
    payload = await request.json()
    text = payload.get("text", "")
    media_ids = (payload.get("media") or {}).get("media_ids", [])
    reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
    quoted = payload.get("quote_tweet_id")
    if not text and not media_ids:
        return _invalid("text", "Tweet text or media is required.")
    counted = await asyncio.to_thread(twitter_text.parse, text)
    if counted is not None and counted.weighted_length > MAX_WEIGHTED_LENGTH:
        return _problem(
            403,
            "Forbidden",
            "Your Tweet text is too long. For more information on how X "
            "counts characters, visit docs.x.com/fundamentals/counting-characters",
        )
    if text and counted is not None and not counted.valid:  # U+FFFE, U+FEFF, U+FFFF
        return _invalid("text", "The Tweet text contains characters X does not accept.")
    if (user.id, text) in state.texts:
        return _problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
    conversation = conversation_of(reply_to)
    if reply_to is not None and conversation is None:
        return _invalid("reply.in_reply_to_tweet_id", "The replied-to Tweet does not exist.")
    if quoted is not None and quoted not in state.tweets:  # POST /2/tweets: quote_tweet_id, a post id
        return _invalid("quote_tweet_id", "The quoted Tweet does not exist.")
    for media_id in media_ids:
        if state.media.get(media_id, {}).get("state") != "succeeded":
            return _invalid("media.media_ids", f"Media {media_id} is not ready or does not exist.")
    tweet_id = str(next(state.ids))
    tweet = {
        "id": tweet_id,
        "text": text,
        "author_id": user.id,
        "created_at": sandbox.now().isoformat(),
        "in_reply_to_tweet_id": reply_to,
        "conversation_id": conversation or tweet_id,
        "quote_tweet_id": quoted,
        "media_ids": media_ids,
        "alt_texts": [state.media[m].get("alt_text", "") for m in media_ids],
    }
    state.tweets[tweet_id] = tweet
    state.texts.add((user.id, text))
    sandbox.record(PLATFORM, "tweet", dict(tweet, username=user.username))
    return _with_limits(
        request, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}, 201
    )


def _invalid(parameter: str, message: str) -> JSONResponse:
    return _problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "https://api.twitter.com/2/problems/invalid-request",
        errors=[{"parameters": {parameter: []}, "message": message}],
    )


@router.delete("/2/tweets/{tweet_id}")
async def delete_tweet(tweet_id: str, request: Request) -> Response:
    user = await _gate(request, "delete")
    tweet = state.tweets.get(tweet_id)
    if tweet is None or tweet["author_id"] != user.id:
        return _with_limits(request, {"data": {"deleted": False}})
    del state.tweets[tweet_id]
    state.texts.discard((user.id, tweet["text"]))
    sandbox.record(PLATFORM, "delete", {"id": tweet_id})
    return _with_limits(request, {"data": {"deleted": True}})


@router.get("/2/tweets/{tweet_id}")
async def get_tweet(tweet_id: str, request: Request) -> Response:
    """``GET /2/tweets/:id`` (docs.x.com/x-api/posts/get-post-by-id) with ``tweet.fields``
    ``public_metrics`` (anyone) and ``non_public_metrics`` (the author's user context only;
    docs.x.com/x-api/fundamentals/metrics), figures from the seeded simulation. A post that does
    not exist is a 200 with ``errors`` of type resource-not-found and no ``data``, as X answers."""
    user = await _gate(request, "lookup")
    tweet = state.tweets.get(tweet_id)
    if tweet is None:
        problem = {
            "value": tweet_id,
            "detail": f"Could not find tweet with id: [{tweet_id}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "id",
            "resource_id": tweet_id,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
        return _with_limits(request, {"errors": [problem]})
    fields = set(request.query_params.get("tweet.fields", "").split(","))
    data: dict[str, Any] = {"id": tweet_id, "text": tweet["text"], "edit_history_tweet_ids": [tweet_id]}
    figures = engagement.simulation.figures(PLATFORM, tweet_id, datetime.fromisoformat(tweet["created_at"]))
    if "public_metrics" in fields:
        data["public_metrics"] = figures
    if "non_public_metrics" in fields and tweet["author_id"] == user.id:
        data["non_public_metrics"] = {
            "impression_count": figures["impression_count"],
            "url_link_clicks": figures["like_count"] // 3,
            "user_profile_clicks": figures["like_count"] // 5,
        }
    return _with_limits(request, {"data": data})


@router.get("/2/users/me")
async def me(request: Request) -> Response:
    user = await _gate(request, "me")
    return _with_limits(request, {"data": {"id": user.id, "name": user.username, "username": user.username}})


@router.get("/2/users/{user_id}/tweets")
async def user_tweets(user_id: str, request: Request) -> Response:
    await _gate(request, "timeline")
    limit = min(int(request.query_params.get("max_results", "10")), 100)
    mine = [t for t in state.tweets.values() if t["author_id"] == user_id]
    newest = sorted(mine, key=lambda t: int(t["id"]), reverse=True)[:limit]
    fields = set(request.query_params.get("tweet.fields", "").split(","))
    data = [
        {"id": t["id"], "text": t["text"], "created_at": t["created_at"], "edit_history_tweet_ids": [t["id"]]}
        | (
            {"referenced_tweets": [{"type": "replied_to", "id": t["in_reply_to_tweet_id"]}]}
            if "referenced_tweets" in fields and t.get("in_reply_to_tweet_id")
            else {}
        )
        for t in newest
    ]
    return _with_limits(
        request,
        {"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}},
    )


@router.post("/2/media/upload/initialize")
async def media_initialize(request: Request) -> Response:
    user = await _gate(request, "media")
    body = await request.json()
    media_id = str(next(state.ids))
    state.media[media_id] = {
        "id": media_id,
        "owner": user.id,
        "media_type": body.get("media_type"),
        "total_bytes": int(body.get("total_bytes", 0)),
        "received": 0,
        "segments": set(),
        "sha256": hashlib.sha256(),
        "state": "uploading",
        "polls": 0,
    }
    return _with_limits(
        request, {"data": {"id": media_id, "media_key": f"13_{media_id}", "expires_after_secs": 86400}}
    )


@router.post("/2/media/upload/{media_id}/append")
async def media_append(media_id: str, request: Request) -> Response:
    await _gate(request, "media")
    media = state.media.get(media_id)
    if media is None or media["state"] != "uploading":
        return _invalid("media_id", "Unknown or finalized media_id.")
    form = await request.form()
    chunk = await form["media"].read()  # type: ignore[union-attr]
    if len(chunk) > 5 * 1024 * 1024:  # "It must be <= 5 MB" (APPEND reference)
        return _invalid("media", "Segment larger than 5 MB.")
    media["segments"].add(int(str(form["segment_index"])))
    media["sha256"].update(chunk)
    media["received"] += len(chunk)
    return _with_limits(request, {"data": {"expires_at": int(time.time()) + 86400}})


@router.post("/2/media/upload/{media_id}/finalize")
async def media_finalize(media_id: str, request: Request) -> Response:
    await _gate(request, "media")
    media = state.media.get(media_id)
    if media is None or media["received"] != media["total_bytes"]:
        return _invalid("media_id", "Segments do not add up to total_bytes.")
    # A video is processed after FINALIZE; without processing_info there is nothing to wait for
    # (docs.x.com/x-api/media/quickstart/media-upload-chunked: "STATUS ... only if FINALIZE
    # returned processing_info").
    processed = media["media_type"].startswith("video/") and sandbox.processing_checks[PLATFORM] > 0
    media["state"] = "pending" if processed else "succeeded"
    sandbox.record(
        PLATFORM,
        "media",
        {
            "id": media_id,
            "size": media["received"],
            "sha256": media["sha256"].hexdigest(),
            "type": media["media_type"],
        },
    )
    data: dict[str, Any] = {"id": media_id, "media_key": f"13_{media_id}", "size": media["received"]}
    if media["state"] == "pending":
        data["processing_info"] = {"state": "pending", "check_after_secs": 1}
    return _with_limits(request, {"data": data})


@router.post("/2/media/metadata")
async def media_metadata(request: Request) -> Response:
    """``POST /2/media/metadata`` (docs.x.com/x-api/media/create-media-metadata): the alt text of an
    uploaded image or GIF ("currently only supported for images and GIFs", at most 1,000
    characters: v1.1's media/metadata/create reference); the answer echoes ``associated_metadata``."""
    user = await _gate(request, "media")
    body = await request.json()
    media = state.media.get(str(body.get("id", "")))
    if media is None or media["owner"] != user.id:
        return _invalid("id", "Unknown media id.")
    alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
    if not isinstance(alt, str) or not alt:
        return _invalid("metadata.alt_text.text", "alt_text.text is required.")
    if len(alt) > 1000:
        return _invalid("metadata.alt_text.text", "alt_text.text must be <= 1000 characters.")
    if not str(media["media_type"]).startswith("image/"):
        return _invalid("id", "Alt text is supported for images and GIFs only.")
    media["alt_text"] = alt
    sandbox.record(PLATFORM, "media_metadata", {"id": media["id"], "alt_text": alt})
    return _with_limits(
        request, {"data": {"id": media["id"], "associated_metadata": {"alt_text": {"text": alt}}}}
    )


@router.get("/2/media/upload")
async def media_status(request: Request) -> Response:
    await _gate(request, "media")
    media = state.media.get(request.query_params.get("media_id", ""))
    if media is None:
        return _invalid("media_id", "Unknown media_id.")
    if media["state"] == "pending":
        media["polls"] += 1
        if media["polls"] > sandbox.processing_checks[PLATFORM]:
            media["state"] = "succeeded"
    info = {
        "state": media["state"] if media["state"] != "pending" else "in_progress",
        "progress_percent": 100 if media["state"] == "succeeded" else 50,
    }
    if media["state"] != "succeeded":
        info["check_after_secs"] = 1
    return _with_limits(request, {"data": {"id": media["id"], "processing_info": info}})


@router.post("/_accounts")
async def add_account(request: Request) -> dict[str, str]:
    """Sandbox control: register an X user and its OAuth 1.0a keys."""
    body = await request.json()
    user = XUser(**body)
    state.users[user.access_token] = user
    return {"id": user.id}


ACCESS_TTL_S = 7200  # "access tokens are valid for two hours" (OAuth 2.0 user access token docs)


def issue_pair(user: XUser, client_id: str) -> dict[str, Any]:
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    state.bearer[access] = (user, time.time() + ACCESS_TTL_S)
    state.refresh[refresh] = (user, client_id)
    return {
        "token_type": "bearer",
        "expires_in": ACCESS_TTL_S,
        "access_token": access,
        "scope": "tweet.read tweet.write users.read offline.access media.write",
        "refresh_token": refresh,
    }


def _oauth2_error(description: str) -> JSONResponse:
    # X answers a bad grant with 400 {"error": "invalid_request", "error_description": ...}.
    return JSONResponse({"error": "invalid_request", "error_description": description}, status_code=400)


@router.post("/2/oauth2/token")
async def oauth2_token(request: Request) -> Response:
    """Refresh an OAuth 2.0 user token: Basic client auth; the refresh token rotates (single use).
    The ``authorization_code`` grant of Connect is ``x_oauth2.exchange_code``."""
    await sandbox.enter(PLATFORM, request.url.path)
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        client_id, secret = "", ""
    if scheme != "Basic" or state.clients.get(client_id) != secret or not secret:
        return JSONResponse(
            {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
            status_code=401,
        )
    form = await request.form()
    if form.get("grant_type") == "authorization_code":
        return exchange_code(form, client_id)
    token = str(form.get("refresh_token", ""))
    issued = state.refresh.pop(token, None)
    if form.get("grant_type") != "refresh_token" or issued is None or issued[1] != client_id:
        sandbox.record(PLATFORM, "oauth2_refresh_refused", {"reused": token in state.used_refresh})
        return _oauth2_error("Value passed for the token was invalid.")
    state.used_refresh.add(token)
    state.refreshes += 1
    sandbox.record(PLATFORM, "oauth2_refresh", {"user": issued[0].id, "n": state.refreshes})
    return JSONResponse(issue_pair(issued[0], client_id))


@router.post("/_oauth2_users")
async def add_oauth2_user(request: Request) -> dict[str, Any]:
    """Sandbox control: an X user who authorised an OAuth 2.0 app; answers its first token pair."""
    body = await request.json()
    user = XUser(body["id"], body["username"], "", "", "", "")
    state.clients[body["client_id"]] = body["client_secret"]
    return issue_pair(user, body["client_id"])


@router.post("/_expire_oauth2")
async def expire_oauth2() -> dict[str, int]:
    """Sandbox control: every OAuth 2.0 access token expires now."""
    for token, (user, _) in state.bearer.items():
        state.bearer[token] = (user, time.time() - 1)
    return {"expired": len(state.bearer)}


@router.post("/_limits")
async def set_limits(limit: int, seconds: int = 900) -> dict[str, int]:
    """Sandbox control: the per-user window of POST /2/tweets."""
    state.tweet_window = (limit, seconds)
    state.windows.clear()
    return {"limit": limit, "seconds": seconds}


def _preset_expired_token(args: PresetArgs) -> Fault:
    # X answers a revoked or expired token with 401 problem JSON (response-codes-and-errors).
    body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    return Fault(args.platform, 401, body)


def _preset_rate_limit(args: PresetArgs) -> Fault:
    # 429 with the window's x-rate-limit-* headers; the reset is epoch seconds (rate-limits docs).
    reset = int(args.now.timestamp()) + args.reset_after_s
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    return Fault(args.platform, 429, body, headers)


def _preset_server_error(args: PresetArgs) -> Fault:
    body = {
        "title": "Service Unavailable",
        "detail": "Service Unavailable",
        "type": "about:blank",
        "status": 503,
    }
    return Fault(args.platform, 503, body)


sandbox.register_presets(
    PLATFORM,
    {
        "expired_token": _preset_expired_token,
        "rate_limit": _preset_rate_limit,
        "server_error": _preset_server_error,
    },
)
sandbox.on_reset(lambda: state.__init__())  # type: ignore[misc]
sandbox.register_card(
    PLATFORM,
    """<p><strong>@{{ data.username }}</strong>
{% if data.in_reply_to_tweet_id %}
<span class="meta">↳ trả lời {{ data.in_reply_to_tweet_id }}</span>{% endif %}
{% if data.quote_tweet_id %}<span class="meta">❝ trích {{ data.quote_tweet_id }}</span>{% endif %}</p>
<p style="white-space: pre-wrap">{{ data.text }}</p>
{% if data.media_ids %}<p class="meta">{{ data.media_ids | length }} ảnh/video đính kèm</p>{% endif %}
<p class="meta">post {{ data.id }} · {{ data.created_at }}</p>""",
    kinds={"tweet"},
    visible=lambda record: record.data["id"] in state.tweets,
)

from services.sandbox.x_oauth2 import exchange_code  # noqa: E402 - x_oauth2 uses this module's state

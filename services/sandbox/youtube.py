"""YouTube Data API v3 emulator: resumable uploads, videos, thumbnails, quota and OAuth tokens.

Follows the documented protocol and shapes:
- resumable upload: https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
  (session start → ``200`` + ``Location``; ``PUT`` chunks → ``308`` + ``Range: bytes=0-n``;
  status query ``Content-Range: bytes */total``; the last chunk → ``200`` + the video resource);
  non-final chunks are multiples of 256 KiB;
- errors: https://developers.google.com/youtube/v3/docs/errors and the ``videos.insert`` page
  (``invalidTitle``, ``invalidDescription``, ``invalidTags``, ``invalidCategoryId``,
  ``invalidPublishAt``, ``uploadLimitExceeded`` 400; ``quotaExceeded`` 403; ``authError`` 401);
- metadata limits: https://developers.google.com/youtube/v3/docs/videos (title ≤ 100 characters,
  description ≤ 5000 bytes, neither with ``<`` or ``>``; tags ≤ 500 characters counted with a
  comma between tags and quotes around a tag containing a space);
- quota: see ``youtube_state``.

Received bytes are hashed and counted as they stream in; nothing keeps a video in memory.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect

from services.sandbox.frame import Answer, Fault, Record, sandbox
from services.sandbox.google_oauth import exchange_code
from services.sandbox.youtube_methods import BadRequestError, checked_parts
from services.sandbox.youtube_state import (
    LANGUAGES,
    SESSION_TTL,
    UploadSession,
    Video,
    YouTubeState,
    new_id,
    next_pacific_midnight,
    state,
)

router = APIRouter(tags=["youtube"])
PLATFORM = "youtube"
CHUNK_GRANULARITY = 256 * 1024
CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
PRIVACY = {"public", "unlisted", "private"}
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
"""Custom thumbnails must be under 2 MB (https://developers.google.com/youtube/v3/docs/thumbnails/set)."""
_CONTENT_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


def error_body(status: int, reason: str, message: str, domain: str = "youtube.video") -> dict[str, Any]:
    """The Google API error envelope (https://developers.google.com/youtube/v3/docs/errors)."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }


def error(status: int, reason: str, message: str, domain: str = "youtube.video") -> JSONResponse:
    return JSONResponse(error_body(status, reason, message, domain), status_code=status)


def quota_exceeded() -> JSONResponse:
    message = (
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.'
    )
    return error(403, "quotaExceeded", message, domain="youtube.quota")


# How this platform says the generic fault presets (https://developers.google.com/youtube/v3/docs/errors;
# the resumable upload guide treats 500/502/503/504 as retryable): ``rate_limit`` is the 429
# ``rateLimitExceeded`` with ``Retry-After``, ``expired_token`` the 401 ``authError``.
sandbox.register_presets(
    PLATFORM,
    {
        "expired_token": lambda args: Fault(
            args.platform,
            401,
            error_body(401, "authError", "Invalid Credentials", domain="global"),
            {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
        ),
        "rate_limit": lambda args: Fault(
            args.platform,
            429,
            error_body(429, "rateLimitExceeded", "Too many requests.", domain="usageLimits"),
            {"Retry-After": str(args.reset_after_s)},
        ),
        "server_error": lambda args: Fault(
            args.platform, 503, error_body(503, "backendError", "Backend Error", domain="global")
        ),
    },
)


def _auth(request: Request) -> str | JSONResponse:
    """The caller's channel id, or the 401 Google answers for a missing/expired token."""
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    channel = state().channel_for(token) if token else None
    if channel is None:
        return error(401, "authError", "Invalid Credentials", domain="global")
    return channel


async def _enter(request: Request, method: str) -> tuple[str, YouTubeState]:
    """Fault injection, authentication and quota, in the order the platform applies them (else
    ``Answer``)."""
    await sandbox.enter(PLATFORM, request.url.path)
    channel = _auth(request)
    if isinstance(channel, Response):
        raise Answer(channel)
    st = state()
    if not st.charge(method):
        raise Answer(quota_exceeded())
    return channel, st


def _parts(query: QueryParams, method: str) -> set[str]:
    """The parts asked for, after the method's parameters are checked (``youtube_methods``)."""
    try:
        return checked_parts(query, method)
    except BadRequestError as e:
        raise Answer(error(400, e.reason, e.message, domain="global")) from e


def tags_length(tags: list[str]) -> int:
    """YouTube's count: commas between tags, quotes around a tag that contains a space."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def validate_snippet(snippet: dict[str, Any], *, require_title: bool) -> JSONResponse | None:
    title = snippet.get("title")
    if title is None and not require_title:
        pass
    elif not isinstance(title, str) or not title.strip():
        return error(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
    elif len(title) > 100 or "<" in title or ">" in title:
        return error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
    description = snippet.get("description", "")
    if len(description.encode("utf-8")) > 5000 or "<" in description or ">" in description:
        return error(400, "invalidDescription", "The request metadata specifies an invalid description.")
    tags = snippet.get("tags") or []
    if not isinstance(tags, list) or tags_length(tags) > 500 or any("<" in t or ">" in t for t in tags):
        return error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
    category = snippet.get("categoryId")
    if category is not None and str(category) not in CATEGORIES:
        return error(400, "invalidCategoryId", "The snippet.categoryId property is an invalid category ID.")
    return None


def validate_status(status: dict[str, Any]) -> JSONResponse | None:
    privacy = status.get("privacyStatus", "public")
    if privacy not in PRIVACY:
        return error(400, "invalidVideoMetadata", "The request metadata is invalid.")
    publish_at = status.get("publishAt")
    if publish_at:
        try:
            when = datetime.fromisoformat(str(publish_at).replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is None or when.tzinfo is None or privacy != "private" or when <= sandbox.now():
            return error(
                400, "invalidPublishAt", "The request metadata specifies an invalid scheduled publish time."
            )
    return None


# -- OAuth --------------------------------------------------------------------------------
@router.post("/token")
async def token(request: Request) -> Response:
    """Google's OAuth 2.0 token endpoint: the ``refresh_token`` grant, and ``authorization_code``
    for Connect (``google_oauth``)."""
    await sandbox.enter(PLATFORM, "/token")
    form = await request.form()
    if form.get("grant_type") == "authorization_code":
        return exchange_code(form)
    if form.get("grant_type") != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if not form.get("client_id") or not form.get("client_secret"):
        return JSONResponse({"error": "invalid_client", "error_description": "Unauthorized"}, status_code=401)
    refresh = str(form.get("refresh_token") or "")
    st = state()
    if not refresh or refresh in st.revoked:
        body = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        return JSONResponse(body, status_code=400)
    sandbox.record(PLATFORM, "token", {"client_id": str(form.get("client_id"))})
    return JSONResponse(
        {
            "access_token": st.issue_token(refresh),
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube",
            "token_type": "Bearer",
        }
    )


# -- resumable upload ------------------------------------------------------------------------
@router.post("/upload/youtube/v3/videos")
async def start_upload(request: Request) -> Response:
    if request.query_params.get("uploadType") != "resumable":
        return error(400, "invalidUploadType", "Only resumable uploads are emulated.", domain="global")
    channel, st = await _enter(request, "videos.insert")
    _parts(request.query_params, "videos.insert")
    metadata = await request.json() if await request.body() else {}
    invalid = validate_snippet(metadata.get("snippet") or {}, require_title=False) or validate_status(
        metadata.get("status") or {}
    )
    if invalid is not None:
        return invalid
    if not st.count_upload(channel):
        return error(
            400,
            "uploadLimitExceeded",
            "The user has exceeded the number of videos they may upload.",
        )
    length = request.headers.get("x-upload-content-length")
    session = UploadSession(
        id=new_id(32),
        channel_id=channel,
        metadata=metadata,
        total=int(length) if length else None,
        content_type=request.headers.get("x-upload-content-type", "video/*"),
        created=sandbox.now(),
    )
    st.sessions[session.id] = session
    sandbox.record(PLATFORM, "upload_session", {"id": session.id, "total": session.total})
    query = f"uploadType=resumable&part={request.query_params['part']}&upload_id={session.id}"
    location = f"{request.base_url}upload/youtube/v3/videos?{query}"
    return Response(status_code=200, headers={"Location": location, "X-GUploader-UploadID": session.id})


@router.put("/upload/youtube/v3/videos")
async def upload_chunk(request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    st = state()
    session = st.sessions.get(request.query_params.get("upload_id", ""))
    if session is None or sandbox.now() - session.created > SESSION_TTL:
        return error(404, "notFound", "The upload session does not exist or has expired.", domain="global")
    match = _CONTENT_RANGE.match(request.headers.get("content-range", ""))
    if match is None:
        return error(400, "badContentRange", "Content-Range is missing or malformed.", domain="global")
    first, last, total_raw = match.groups()
    if total_raw != "*":
        session.total = int(total_raw)
    if session.video_id is not None:  # complete: every query answers with the video
        return _video_response(request, st.videos[session.video_id], status=200)
    if first is None:  # status query: bytes */total
        return _incomplete(session)
    start, end = int(first), int(last)
    declared = end - start + 1
    is_final = session.total is not None and end + 1 == session.total
    if start != session.received or (not is_final and declared % CHUNK_GRANULARITY):
        async for _ in request.stream():  # drain; the client learns the real offset from Range
            pass
        return _incomplete(session)
    try:
        async for piece in request.stream():
            take = piece[: declared - (session.received - start)]
            session.hasher.update(take)  # inline: a hashing thread cost more CPU per GiB (docs/benchmarks.md)
            session.received += len(take)
    except ClientDisconnect:
        return _incomplete(session)  # nobody listens; what arrived stays received
    session.chunks += 1
    if session.total is not None and session.received >= session.total:
        return _video_response(request, st.finish(session), status=200)
    return _incomplete(session)


def _incomplete(session: UploadSession) -> Response:
    """``308 Resume Incomplete`` with the bytes received so far (no Range before the first byte)."""
    headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
    return Response(status_code=308, headers=headers)


def _video_response(request: Request, video: Video, status: int = 200) -> JSONResponse:
    """The inserted video with the parts the insert asked for (carried in the session's URL)."""
    video.refresh(sandbox.now())
    parts = _parts(request.query_params, "videos.insert")
    return JSONResponse(video.resource(parts, str(request.base_url)), status_code=status)


# -- videos ---------------------------------------------------------------------------------------
@router.get("/youtube/v3/videos")
async def list_videos(request: Request) -> Response:
    channel, st = await _enter(request, "videos.list")
    parts = _parts(request.query_params, "videos.list")
    ids = [i for i in request.query_params.get("id", "").split(",") if i][:50]
    items = []
    for video_id in ids:
        video = st.videos.get(video_id)
        if video is None:
            continue
        video.refresh(sandbox.now())
        if video.channel_id == channel or video.status["privacyStatus"] != "private":
            items.append(video.resource(parts, str(request.base_url)))
    return JSONResponse(
        {
            "kind": "youtube#videoListResponse",
            "etag": new_id(27),
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        }
    )


def _owned(st: YouTubeState, channel: str, video_id: str) -> Video:
    video = st.videos.get(video_id)
    if video is None or video.channel_id != channel:
        raise Answer(error(404, "videoNotFound", "The video that you are trying to update cannot be found."))
    video.refresh(sandbox.now())
    return video


@router.put("/youtube/v3/videos")
async def update_video(request: Request) -> Response:
    channel, st = await _enter(request, "videos.update")
    body = await request.json()
    parts = _parts(request.query_params, "videos.update")
    video = _owned(st, channel, str(body.get("id", "")))
    if "snippet" in parts:
        snippet = body.get("snippet") or {}
        if not snippet.get("categoryId"):
            return error(400, "invalidCategoryId", "snippet.categoryId is required to update the snippet.")
        invalid = validate_snippet(snippet, require_title=True)
        if invalid is not None:
            return invalid
        # Mutable properties left out of the request are deleted, as the platform documents.
        for key in ("title", "description", "tags", "categoryId", *LANGUAGES):
            if key in snippet:
                video.snippet[key] = snippet[key]
            elif key in {"description", "tags", *LANGUAGES}:
                video.snippet.pop(key, None)
    if "status" in parts:
        status = body.get("status") or {}
        invalid = validate_status(status)
        if invalid is not None:
            return invalid
        video.status["privacyStatus"] = status.get("privacyStatus", video.status["privacyStatus"])
        if status.get("publishAt"):
            video.status["publishAt"] = status["publishAt"]
        else:
            video.status.pop("publishAt", None)
        for key in ("embeddable", "publicStatsViewable", "selfDeclaredMadeForKids", "license"):
            if key in status:
                video.status[key] = status[key]
    video.sync()
    sandbox.record(PLATFORM, "update", {"id": video.id, "parts": sorted(parts)})
    return JSONResponse(video.resource(parts, str(request.base_url)))


@router.delete("/youtube/v3/videos")
async def delete_video(request: Request) -> Response:
    channel, st = await _enter(request, "videos.delete")
    _parts(request.query_params, "videos.delete")
    video = _owned(st, channel, request.query_params.get("id", ""))
    del st.videos[video.id]
    sandbox.record(PLATFORM, "delete", {"id": video.id})
    return Response(status_code=204)


@router.post("/upload/youtube/v3/thumbnails/set")
async def set_thumbnail(request: Request) -> Response:
    channel, st = await _enter(request, "thumbnails.set")
    _parts(request.query_params, "thumbnails.set")
    video = _owned(st, channel, request.query_params.get("videoId", ""))
    data = await request.body()  # a thumbnail is at most 2 MB
    if not data:
        return error(400, "mediaBodyRequired", "The request does not include the image content.")
    if len(data) > THUMBNAIL_MAX_BYTES or not (data.startswith(b"\xff\xd8") or data.startswith(b"\x89PNG")):
        return error(400, "invalidImage", "The provided image content is invalid.")
    video.thumbnail = data
    video.thumbnail_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    video.sync()
    sandbox.record(PLATFORM, "thumbnail", {"id": video.id, "bytes": len(data)})
    return JSONResponse(
        {"kind": "youtube#thumbnailSetResponse", "items": [video.thumbnails(str(request.base_url))]}
    )


# -- channel uploads (find_existing) ----------------------------------------------------------
@router.get("/youtube/v3/channels")
async def list_channels(request: Request) -> Response:
    channel, _ = await _enter(request, "channels.list")
    _parts(request.query_params, "channels.list")
    if request.query_params.get("mine") != "true":
        return error(400, "missingRequiredParameter", "Only mine=true is emulated.", domain="global")
    item = {
        "kind": "youtube#channel",
        "id": channel,
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + channel[2:]}},
    }
    return JSONResponse({"kind": "youtube#channelListResponse", "items": [item]})


@router.get("/youtube/v3/playlistItems")
async def list_playlist_items(request: Request) -> Response:
    channel, st = await _enter(request, "playlistItems.list")
    parts = _parts(request.query_params, "playlistItems.list")
    playlist = request.query_params.get("playlistId", "")
    if playlist != "UU" + channel[2:]:
        return error(
            404,
            "playlistNotFound",
            "The playlist identified with the request's playlistId parameter cannot be found.",
        )
    per_page = min(int(request.query_params.get("maxResults", "5")), 50)
    start = int(request.query_params.get("pageToken") or 0)
    uploads = st.uploads_of(channel)
    page = uploads[start : start + per_page]
    items = [
        {
            "kind": "youtube#playlistItem",
            "id": new_id(24),
            "snippet": {
                "publishedAt": v.snippet["publishedAt"],
                "channelId": channel,
                "title": v.snippet["title"],
                "description": v.snippet["description"],
                "playlistId": playlist,
                "resourceId": {"kind": "youtube#video", "videoId": v.id},
            },
            "contentDetails": {"videoId": v.id},
        }
        for v in page
    ]
    items = [{k: v for k, v in item.items() if k in {"kind", "id", *parts}} for item in items]
    body: dict[str, Any] = {
        "kind": "youtube#playlistItemListResponse",
        "items": items,
        "pageInfo": {"totalResults": len(uploads), "resultsPerPage": per_page},
    }
    if start + per_page < len(uploads):
        body["nextPageToken"] = str(start + per_page)
    return JSONResponse(body)


# -- sandbox controls and the page ----------------------------------------------------------
@router.get("/_sandbox/youtube/state")
def inspect() -> dict[str, Any]:
    st = state()
    now = sandbox.now()
    for video in st.videos.values():
        video.refresh(now)
    return {
        "sessions": [
            {"id": s.id, "received": s.received, "total": s.total, "chunks": s.chunks, "video_id": s.video_id}
            for s in st.sessions.values()
        ],
        "videos": [
            {
                "id": v.id,
                "channel_id": v.channel_id,
                "size": v.size,
                "sha256": v.sha256,
                "snippet": v.snippet,
                "status": v.status,
                "thumbnail_bytes": len(v.thumbnail or b""),
            }
            for v in st.videos.values()
        ],
        "quota": {bucket: {"used": st.used(bucket), "limit": limit} for bucket, limit in st.limits.items()},
        "quota_resets_at": next_pacific_midnight(now).isoformat(),
    }


@router.post("/_sandbox/youtube/quota")
def set_quota(bucket: str, limit: int) -> dict[str, int]:
    """Set a bucket's daily limit (``default``, ``videos.insert``, ``search.list``)."""
    state().limits[bucket] = limit
    return dict(state().limits)


@router.post("/_sandbox/youtube/upload_cap")
def set_upload_cap(per_day: int | None = None) -> dict[str, int | None]:
    state().uploads_per_channel_day = per_day
    return {"per_day": per_day}


@router.post("/_sandbox/youtube/revoke")
async def revoke(request: Request) -> dict[str, str]:
    """Revoke a refresh token: the next refresh answers ``invalid_grant``; its access tokens die."""
    state().revoke((await request.json())["refresh_token"])
    return {"status": "revoked"}


@router.get("/_sandbox/youtube/thumbnails/{video_id}")
def thumbnail(video_id: str) -> Response:
    video = state().videos.get(video_id)
    if video is None or video.thumbnail is None:
        return Response(status_code=404)
    return Response(video.thumbnail, media_type=video.thumbnail_type)


def _on_the_page(record: Record) -> bool:
    """A video's card shows while the video exists, as it stands now (processing, schedule)."""
    video = state().videos.get(record.data["id"])
    if video is None:
        return False
    video.refresh(sandbox.now())
    return True


sandbox.register_card(
    PLATFORM,
    """{% if data.thumbnail %}<p><img src="/_sandbox/youtube/thumbnails/{{ data.id | urlencode }}" alt=""
  width="320"></p>{% else %}<p class="meta">(no custom thumbnail)</p>{% endif %}
<h3>{{ data.title }}</h3>
<p class="meta"><b class="privacy">{{ data.privacy }}</b>
{%- if data.publish_at %} · goes public at {{ data.publish_at }}{% endif %}
 · {{ data.upload_status }} · {{ "{:,}".format(data.size) }} bytes · video {{ data.id }}</p>
<p style="white-space: pre-wrap">{{ data.description }}</p>
{% if data.tags %}<p class="meta">tags: {{ data.tags | join(", ") }}</p>{% endif %}""",
    kinds={"video"},
    visible=_on_the_page,
)

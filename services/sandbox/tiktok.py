"""TikTok Content Posting API emulator: creator info, Direct Post of a video by chunks, status.

From TikTok's documents (developers.tiktok.com/doc/…):
- ``content-posting-api-reference-direct-post``: ``POST /v2/post/publish/creator_info/query/``
  (20 a minute per user token) answers the creator's ``privacy_level_options`` and interaction
  settings; ``POST /v2/post/publish/video/init/`` (6 a minute) takes ``post_info`` (``title`` at
  most 2200 UTF-16 runes, ``privacy_level`` one of the creator's options, ``disable_*``) and
  ``source_info`` (FILE_UPLOAD: ``video_size``, ``chunk_size``, ``total_chunk_count``) and answers
  ``publish_id`` and ``upload_url``; its refusals: invalid_param 400, privacy_level_option_mismatch
  and spam_risk_too_many_posts 403, access_token_invalid 401, rate_limit_exceeded 429.
- ``content-posting-api-media-transfer-guide``: the chunk rules and ``PUT {upload_url}`` with
  ``Content-Type``, ``Content-Length``, ``Content-Range: bytes {first}-{last}/{total}``, in order.
  The upload URL lives an hour.
- ``content-posting-api-reference-get-video-status``: ``POST /v2/post/publish/status/fetch/``
  (30 a minute) answers ``status`` (PROCESSING_UPLOAD, PUBLISH_COMPLETE, FAILED with
  ``fail_reason``), ``uploaded_bytes`` and, for a post others may see, ``publicaly_available_post_id``.
- ``tiktok-api-v2-error-handling``: every answer has ``{"error": {"code", "message", "log_id"}}``.
The emulator's own choices (TikTok does not document them) are in services/tiktok/README.md:
the upload host answers 206 while chunks are missing and 201 once the video is whole, and a chunk
that breaks the rules is refused with 400 ``invalid_file_upload``.
OAuth v2 (the token endpoint and test creators) is ``tiktok_oauth``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.sandbox.frame import Answer, Fault, PresetArgs, PresetBuilder, sandbox

PLATFORM = "tiktok"
router = APIRouter(prefix="/tiktok", tags=["TikTok Content Posting API emulator"])

MB = 1024 * 1024
CHUNK_MIN = 5_000_000
"""At least 5 MB a chunk: the emulator reads MB as 10^6 here, 2^20 for the maxima (the guide does
not say; a client that satisfies both readings passes either way)."""
CHUNK_MAX, LAST_CHUNK_MAX, MAX_CHUNKS = 64 * MB, 128 * MB, 1000
VIDEO_MAX = 4 * 1024 * MB
TITLE_MAX_UTF16 = 2200
VIDEO_TYPES = {"video/mp4", "video/webm", "video/quicktime"}
UPLOAD_URL_TTL = timedelta(hours=1)
PER_MINUTE = {"creator_info": 20, "init": 6, "status": 30}
DAILY_POSTS = 15
"""Emulator default of the daily cap (TikTok names none for Direct Post: it "varies")."""
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass
class Creator:
    open_id: str
    username: str
    nickname: str
    privacy_level_options: list[str]
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600


@dataclass
class Publish:
    publish_id: str
    upload_id: str
    upload_token: str
    creator: Creator
    post_info: dict[str, Any]
    video_size: int
    chunk_size: int
    total_chunk_count: int
    opened_at: datetime
    received: int = 0
    chunks: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    checks_left: int = 0
    status: str = "PROCESSING_UPLOAD"
    post_id: str | None = None


@dataclass
class TikTokState:
    creators: dict[str, Creator] = field(default_factory=dict)
    access: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """Access token → (open_id, expiry)."""
    refresh: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    """Refresh token → (open_id, client_key, expiry)."""
    clients: dict[str, str] = field(default_factory=dict)
    refreshes: int = 0
    publishes: dict[str, Publish] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)
    """upload_id → publish_id."""
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    daily_posts: int = DAILY_POSTS
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_443_000_000_000_000_001))


state = TikTokState()


def envelope(
    data: dict[str, Any] | None = None, code: str = "ok", message: str = "", status: int = 200
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "log_id": secrets.token_hex(10)}}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=status)


def refuse(status: int, code: str, message: str) -> Answer:
    return Answer(envelope(None, code, message, status))


async def _creator(request: Request, endpoint: str) -> Creator:
    """Faults, the Bearer token, then the token's per-minute window (else ``Answer``)."""
    await sandbox.enter(PLATFORM, request.url.path)
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    issued = state.access.get(token)
    now = sandbox.now()
    if issued is None or issued[1] <= now:
        raise refuse(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    recent = [t for t in state.calls.get((token, endpoint), []) if t > now - timedelta(minutes=1)]
    if len(recent) >= PER_MINUTE[endpoint]:
        raise refuse(429, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.")
    state.calls[(token, endpoint)] = [*recent, now]
    return state.creators[issued[0]]


@router.post("/v2/post/publish/creator_info/query/")
async def creator_info(request: Request) -> Response:
    c = await _creator(request, "creator_info")
    return envelope(
        {
            "creator_avatar_url": f"https://p16-sign.tiktokcdn.com/{c.open_id}.jpeg",
            "creator_username": c.username,
            "creator_nickname": c.nickname,
            "privacy_level_options": c.privacy_level_options,
            "comment_disabled": c.comment_disabled,
            "duet_disabled": c.duet_disabled,
            "stitch_disabled": c.stitch_disabled,
            "max_video_post_duration_sec": c.max_video_post_duration_sec,
        }
    )


def chunk_rules(video_size: int, chunk_size: int, total: int) -> str | None:
    """What ``source_info`` breaks of the Media Transfer Guide's chunk restrictions, or None."""
    if not 0 < video_size <= VIDEO_MAX:
        return "video_size must be more than 0 and at most 4 GB"
    if video_size < CHUNK_MIN:
        return None if (chunk_size, total) == (video_size, 1) else "a video under 5 MB goes whole, in 1 chunk"
    if not CHUNK_MIN <= chunk_size <= CHUNK_MAX:
        return "chunk_size must be at least 5 MB and at most 64 MB"
    if total != video_size // chunk_size:
        return "total_chunk_count must be video_size divided by chunk_size, rounded down"
    if not 1 <= total <= MAX_CHUNKS:
        return "total_chunk_count must be between 1 and 1000"
    if video_size > CHUNK_MAX and total < 2:
        return "a video over 64 MB goes in several chunks"
    if video_size - (total - 1) * chunk_size > LAST_CHUNK_MAX:
        return "the final chunk may hold at most 128 MB"
    return None


def _integer(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


@router.post("/v2/post/publish/video/init/")
async def video_init(request: Request) -> Response:
    creator = await _creator(request, "init")
    body = await request.json()
    post_info = body.get("post_info") or {}
    source = body.get("source_info") or {}
    title = str(post_info.get("title", ""))
    if len(title.encode("utf-16-le")) // 2 > TITLE_MAX_UTF16:
        raise refuse(400, "invalid_param", "post_info.title is longer than 2200 UTF-16 runes")
    if post_info.get("privacy_level") not in creator.privacy_level_options:
        raise refuse(
            403, "privacy_level_option_mismatch", "privacy_level is not one of privacy_level_options"
        )
    if source.get("source") != "FILE_UPLOAD":
        raise refuse(400, "invalid_param", "source_info.source: the sandbox emulates FILE_UPLOAD only")
    size, chunk, total = (_integer(source.get(k)) for k in ("video_size", "chunk_size", "total_chunk_count"))
    broken = chunk_rules(size, chunk, total)
    if broken:
        raise refuse(400, "invalid_param", f"source_info: {broken}")
    now = sandbox.now()
    today = [
        p for p in state.publishes.values() if p.creator is creator and p.opened_at > now - timedelta(days=1)
    ]
    if len(today) >= state.daily_posts:
        raise refuse(
            403,
            "spam_risk_too_many_posts",
            "The daily post cap from the API is reached for the current user.",
        )
    publish = Publish(
        publish_id=f"v_pub_file~v2-1.{next(state.ids)}",
        upload_id=str(next(state.ids)),
        upload_token=secrets.token_urlsafe(16),
        creator=creator,
        post_info=dict(post_info),
        video_size=size,
        chunk_size=chunk,
        total_chunk_count=total,
        opened_at=now,
    )
    state.publishes[publish.publish_id] = publish
    state.uploads[publish.upload_id] = publish.publish_id
    sandbox.record(PLATFORM, "init", {"publish_id": publish.publish_id, "source_info": source})
    query = f"upload_id={publish.upload_id}&upload_token={publish.upload_token}"
    upload_url = f"{request.base_url}tiktok/upload/video/?{query}"
    return envelope({"publish_id": publish.publish_id, "upload_url": upload_url})


def _chunk_refusal(message: str) -> Answer:
    return refuse(400, "invalid_file_upload", message)


@router.put("/upload/video/")
async def upload_chunk(request: Request, upload_id: str = "", upload_token: str = "") -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    publish = state.publishes.get(state.uploads.get(upload_id, ""))
    if publish is None or not secrets.compare_digest(publish.upload_token, upload_token):
        raise refuse(404, "invalid_params", "upload_id or upload_token is not valid")
    if sandbox.now() > publish.opened_at + UPLOAD_URL_TTL:
        raise refuse(404, "invalid_params", "the upload URL expired (it is valid for one hour)")
    if publish.chunks >= publish.total_chunk_count:
        raise _chunk_refusal("every chunk was received already")
    if request.headers.get("content-type", "").split(";")[0] not in VIDEO_TYPES:
        raise _chunk_refusal("Content-Type must be video/mp4, video/quicktime or video/webm")
    found = _RANGE.match(request.headers.get("content-range", ""))
    if found is None:
        raise _chunk_refusal("Content-Range must be bytes {FIRST_BYTE}-{LAST_BYTE}/{TOTAL_BYTE_LENGTH}")
    first, last, total = (int(g) for g in found.groups())
    final = publish.chunks == publish.total_chunk_count - 1
    expected = publish.video_size - publish.received if final else publish.chunk_size
    if total != publish.video_size:
        raise _chunk_refusal(
            f"Content-Range: total {total}, the video_size declared was {publish.video_size}"
        )
    if first != publish.received:
        raise _chunk_refusal(
            f"Content-Range: chunks go in order; the next one starts at byte {publish.received}"
        )
    if last - first + 1 != expected:
        raise _chunk_refusal(f"Content-Range: chunk {publish.chunks + 1} holds {expected} bytes")
    data = await request.body()
    if len(data) != expected or request.headers.get("content-length") != str(expected):
        raise _chunk_refusal(
            f"Content-Length: chunk {publish.chunks + 1} holds {expected} bytes, got {len(data)}"
        )
    publish.digest.update(data)
    publish.received += len(data)
    publish.chunks += 1
    sandbox.record(PLATFORM, "chunk", {"publish_id": publish.publish_id, "range": f"{first}-{last}/{total}"})
    if not final:
        return Response(status_code=206, headers={"Content-Range": f"bytes 0-{last}/{total}"})
    publish.checks_left = sandbox.processing_checks[PLATFORM]
    return Response(status_code=201)


@router.post("/v2/post/publish/status/fetch/")
async def status_fetch(request: Request) -> Response:
    creator = await _creator(request, "status")
    body = await request.json()
    publish = state.publishes.get(str(body.get("publish_id", "")))
    if publish is None or publish.creator is not creator:
        raise refuse(400, "invalid_params", "publish_id does not exist")
    whole = publish.chunks == publish.total_chunk_count
    if whole and publish.status == "PROCESSING_UPLOAD":
        if publish.checks_left > 0:
            publish.checks_left -= 1
        else:
            _publish(publish)
    public = publish.post_id is not None and publish.post_info.get("privacy_level") != "SELF_ONLY"
    return envelope(
        {
            "status": publish.status,
            "uploaded_bytes": publish.received,
            "publicaly_available_post_id": [int(publish.post_id)] if public and publish.post_id else [],
        }
    )


def _publish(publish: Publish) -> None:
    post_id = str(next(state.ids))
    publish.status, publish.post_id = "PUBLISH_COMPLETE", post_id
    post = {
        "id": post_id,
        "publish_id": publish.publish_id,
        "username": publish.creator.username,
        "open_id": publish.creator.open_id,
        "title": publish.post_info.get("title", ""),
        "privacy_level": publish.post_info.get("privacy_level"),
        "disable_comment": bool(publish.post_info.get("disable_comment")),
        "video_size": publish.video_size,
        "chunks": publish.total_chunk_count,
        "sha256": publish.digest.hexdigest(),
    }
    state.posts[post_id] = post
    sandbox.record(PLATFORM, "video", post)


def _error(status: int, code: str, message: str) -> PresetBuilder:
    return lambda args: Fault(
        args.platform, status, {"error": {"code": code, "message": message, "log_id": "sandbox"}}
    )


def _server_error(args: PresetArgs) -> Fault:
    return _error(500, "internal_error", "Something went wrong. Please try again later.")(args)


sandbox.register_presets(
    PLATFORM,
    {
        "expired_token": _error(401, "access_token_invalid", "The access token is invalid or not found."),
        "rate_limit": _error(429, "rate_limit_exceeded", "The API rate limit was exceeded."),
        "server_error": _server_error,
    },
)
sandbox.on_reset(lambda: state.__init__())  # type: ignore[misc]
sandbox.register_card(
    PLATFORM,
    """<p class="meta">@{{ data.username }} · {{ data.privacy_level }} · ▶ video {{ data.video_size }} bytes
in {{ data.chunks }} chunk(s)</p>
<p style="white-space:pre-wrap">{{ data.title }}</p>
<p class="meta">video {{ data.id }}</p>""",
    kinds={"video"},
)

"""Graph API emulator: a Facebook Page's feed, photos, resumable videos and scheduled posts.

Served under ``/graph`` so the base URL is ``http://127.0.0.1:8090/graph`` and requests look like
``/graph/v24.0/{page-id}/feed``. Built from Meta's documentation:

- posts, publishing later and the scheduling window (10 minutes to 30 days ahead):
  https://developers.facebook.com/docs/pages-api/posts
- scheduled posts edge: https://developers.facebook.com/docs/graph-api/reference/page/scheduled_posts/
- resumable video upload (``upload_phase`` start/transfer/finish with ``start_offset``/``end_offset``):
  https://developers.facebook.com/docs/video-api/guides/publishing
- the error object and its codes: https://developers.facebook.com/docs/graph-api/guides/error-handling
- usage headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``):
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting

Tokens are per page (``POST /graph/_sandbox/pages``); the access token is read from the
``access_token`` parameter or the ``Authorization: OAuth <token>`` header (the form Meta's resumable
upload guide uses). A natively scheduled post goes live when the sandbox clock passes its
``scheduled_publish_time``, evaluated lazily on every read. Nothing of a video is kept in memory
but its size and sha256.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from loa.events import DEFAULT_TIMEZONE
from services.sandbox import engagement
from services.sandbox.frame import sandbox

PLATFORM = "facebook"
MESSAGE_MAX = 63_206
"""Facebook's post length limit in characters (widely documented, e.g. https://ferryman.io/character-limits/facebook)."""
SCHEDULE_MIN = timedelta(minutes=10)
SCHEDULE_MAX = timedelta(days=30)
"""'The publish date must be between 10 minutes and 30 days from the time of the API request.'
(https://developers.facebook.com/docs/pages-api/posts, Notes about scheduled posts)."""
DUPLICATE_WINDOW = timedelta(hours=24)
VIDEO_CHUNK = 4 * 1024 * 1024
"""The chunk size this emulator asks for (Meta picks it per upload and says so in ``end_offset``)."""
HOURLY_CALL_BUDGET = 4800
PHOTO_KEEP_MAX = 8 * 1024 * 1024
"""Photos up to this size are kept to show on the sandbox page; larger ones only as size + hash."""

router = APIRouter(prefix="/graph", tags=["facebook graph api"])


# ---------------------------------------------------------------- state


@dataclass
class Page:
    id: str
    name: str
    token: str
    token_error: tuple[int, int | None, str] | None = None
    """When set, every call with this token answers this OAuthException (code, subcode, message)."""
    calls: deque[float] = field(default_factory=deque)
    """When this page's calls came (monotonic), the last hour's: the usage headers count them."""


@dataclass
class Photo:
    id: str
    page_id: str
    published: bool
    temporary: bool
    caption: str
    content_type: str
    size: int
    sha256: str
    data: bytes | None
    created: datetime
    post_id: str | None = None
    alt_text_custom: str = ""
    """The uploader's alt text (Photo reference: ``alt_text_custom``, "user provided accessible
    alternative description for an image"; Facebook generates ``alt_text`` when it is absent)."""


@dataclass
class Video:
    id: str
    page_id: str
    file_size: int
    session_id: str
    received: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)
    sha256: str | None = None
    finished: bool = False
    description: str = ""
    title: str = ""
    created: datetime | None = None
    post_id: str | None = None


@dataclass
class GraphPost:
    id: str
    page_id: str
    kind: str
    """``status``, ``link``, ``photo``, ``photos`` or ``video``."""
    message: str
    created: datetime
    link: str | None = None
    photo_ids: list[str] = field(default_factory=list)
    video_id: str | None = None
    published: bool = True
    scheduled_at: datetime | None = None
    updated: datetime | None = None
    pinned: bool = False
    """``is_pinned``: at the top of its Page (one post at a time; ``facebook_comments.pin``)."""

    def refresh(self, now: datetime) -> None:
        """Publish a natively scheduled post once the clock has passed its time (lazily, on read)."""
        if not self.published and self.scheduled_at is not None and self.scheduled_at <= now:
            self.published = True
            self.created = self.scheduled_at
            sandbox.record(PLATFORM, "scheduled_published", {"id": self.id, "page_id": self.page_id})


@dataclass
class GraphState:
    pages: dict[str, Page] = field(default_factory=dict)
    posts: dict[str, GraphPost] = field(default_factory=dict)
    photos: dict[str, Photo] = field(default_factory=dict)
    videos: dict[str, Video] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10_000_001))
    records_seen: list[Any] | None = None
    # Indexes, so that no call scans everything the run has posted (a bench posts tens of thousands):
    latest: dict[str, GraphPost] = field(default_factory=dict)
    """Per page id: its newest post (the duplicate check compares with it)."""
    sessions: dict[str, Video] = field(default_factory=dict)
    """Resumable upload sessions by ``upload_session_id``."""
    scheduled: dict[str, GraphPost] = field(default_factory=dict)
    """Unpublished posts with a time: the only ones the clock can change."""
    by_token: dict[str, Page] = field(default_factory=dict)
    """Pages by their page access token (rebuilt from ``pages`` when a token is not found in it)."""

    def next_id(self) -> str:
        return str(next(self.ids))

    def page_by_token(self, token: str) -> Page | None:
        page = self.by_token.get(token)
        if page is None or self.pages.get(page.id) is not page or page.token != token:
            self.by_token = {p.token: p for p in self.pages.values()}
            page = self.by_token.get(token)
        return page

    def refresh(self, now: datetime) -> None:
        """Publish the natively scheduled posts whose time has come (lazily, on each call)."""
        for post in list(self.scheduled.values()):
            post.refresh(now)
            if post.published:
                del self.scheduled[post.id]

    def add_post(self, post: GraphPost) -> None:
        self.posts[post.id] = post
        if not post.published and post.scheduled_at is not None:
            self.scheduled[post.id] = post
        newest = self.latest.get(post.page_id)
        if newest is None or post.created >= newest.created:
            self.latest[post.page_id] = post

    def remove_post(self, post_id: str) -> GraphPost | None:
        post = self.posts.pop(post_id, None)
        self.scheduled.pop(post_id, None)
        if post is not None and self.latest.get(post.page_id) is post:  # the next newest, if any
            rest = [p for p in self.posts.values() if p.page_id == post.page_id]
            if rest:
                self.latest[post.page_id] = max(rest, key=lambda p: p.created)
            else:
                del self.latest[post.page_id]
        return post

    def add_video(self, video: Video) -> None:
        self.videos[video.id] = video
        self.sessions[video.session_id] = video


DEFAULT_PAGES = {"100000000000001": ("Cổng Thông tin điện tử (sandbox)", "sandbox-page-token")}
_state = GraphState()


def state() -> GraphState:
    """The emulator's state; a ``/_sandbox/reset`` (which replaces the records list) clears it too."""
    global _state
    if _state.records_seen is not sandbox.records:
        _state = GraphState(records_seen=sandbox.records)
        for page_id, (name, token) in DEFAULT_PAGES.items():
            _state.pages[page_id] = Page(page_id, name, token)
    return _state


# ---------------------------------------------------------------- errors and answers


class GraphError(Exception):
    """An error the emulator answers with Graph's error object."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type_: str = "OAuthException",
        status: int = 400,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.type, self.status = code, message, subcode, type_, status
        self.data = data


def error_body(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    type_: str = "OAuthException",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Graph's error object: ``{"error": {"message", "type", "code", "error_subcode", "error_data",
    "fbtrace_id"}}``.

    Tests use it to plan faults that look exactly like the platform's.
    """
    error: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if data is not None:
        error["error_data"] = data
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
    return {"error": error}


def usage_headers(page: Page | None) -> dict[str, str]:
    """``X-App-Usage`` and ``X-Business-Use-Case-Usage`` as percentages of an hourly budget."""
    if page is None:
        return {}
    now = time.monotonic()
    while page.calls and now - page.calls[0] >= 3600:
        page.calls.popleft()
    pct = min(100, len(page.calls) * 100 // HOURLY_CALL_BUDGET)
    app = {"call_count": pct, "total_cputime": max(0, pct - 1), "total_time": pct}
    buc = {page.id: [{"type": "pages", **app, "estimated_time_to_regain_access": 0}]}
    return {"X-App-Usage": json.dumps(app), "X-Business-Use-Case-Usage": json.dumps(buc)}


def answer(body: Any, page: Page | None = None, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=usage_headers(page))


def error_answer(e: GraphError, page: Page | None = None) -> JSONResponse:
    body = error_body(e.code, e.message, subcode=e.subcode, type_=e.type, data=e.data)
    headers = usage_headers(page) | {
        "WWW-Authenticate": f'OAuth "Facebook Platform" "{e.type}" "{e.message}"'
    }
    return JSONResponse(body, status_code=e.status, headers=headers)


def no_object(object_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
        subcode=33,
        type_="GraphMethodException",
    )


# ---------------------------------------------------------------- request helpers


async def params_of(request: Request) -> tuple[dict[str, str], FormData | None]:
    """Query and form parameters merged (Graph accepts both), plus the form for uploads."""
    params = dict(request.query_params)
    form: FormData | None = None
    if request.method in {"POST", "DELETE"} and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form(max_part_size=64 * 1024 * 1024)
        for key, value in form.multi_items():
            if isinstance(value, str):
                params[key] = value
    return params, form


def token_of(request: Request, params: dict[str, str]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in {"oauth", "bearer"} and value:
        return value.strip()
    return params.get("access_token")


def authorize(st: GraphState, token: str | None, page_id: str) -> Page:
    """The page whose token this is, if it may act on ``page_id``; else Graph's OAuth errors."""
    if not token:
        raise GraphError(104, "An access token is required to request this resource.")
    page = st.page_by_token(token)
    if page is None:
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    page.calls.append(time.monotonic())
    if page.token_error is not None:
        code, subcode, message = page.token_error
        raise GraphError(code, message, subcode=subcode)
    if page.id != page_id:
        raise GraphError(
            200,
            "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts "
            "as an admin with sufficient administrative permission",
            type_="OAuthException",
            status=403,
        )
    return page


def parse_bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() not in {"false", "0", "no"}


def parse_time(value: str | None) -> datetime | None:
    """A UNIX timestamp or an ISO 8601 string, as the posts guide allows."""
    if value is None or value == "":
        return None
    try:
        if re.fullmatch(r"\d+", value.strip()):
            return datetime.fromtimestamp(int(value), UTC)
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise GraphError(
            100, "(#100) Invalid parameter: scheduled_publish_time", type_="OAuthException"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def scheduling(params: dict[str, str]) -> tuple[bool, datetime | None]:
    """``published`` and ``scheduled_publish_time``, validated against the documented window."""
    published = parse_bool(params.get("published"), True)
    when = parse_time(params.get("scheduled_publish_time"))
    if when is None:
        return published, None
    if published:
        raise GraphError(
            100,
            "(#100) You cannot specify a scheduled publish time on a published post",
            type_="OAuthException",
        )
    now = sandbox.now()
    if not now + SCHEDULE_MIN <= when <= now + SCHEDULE_MAX:
        raise GraphError(
            100,
            "(#100) The specified scheduled publish time is invalid. "
            "It must be between 10 minutes and 30 days from the time of the request.",
            type_="OAuthException",
        )
    return False, when


def check_message(message: str) -> str:
    if len(message) > MESSAGE_MAX:
        raise GraphError(100, f"(#100) The message is too long: at most {MESSAGE_MAX} characters")
    return message


def check_duplicate(st: GraphState, page: Page, message: str, link: str | None) -> None:
    """Facebook refuses an identical status posted again in a row (error 506)."""
    if not message and not link:
        return
    now = sandbox.now()
    latest = st.latest.get(page.id)
    if latest is not None and now - latest.created >= DUPLICATE_WINDOW:
        latest = None
    if latest is not None and latest.message == message and latest.link == link:
        raise GraphError(506, "(#506) Duplicate status message", type_="OAuthException")


def permalink(post: GraphPost) -> str:
    page_id, _, story = post.id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{story}"


def post_fields(post: GraphPost, fields: str | None) -> dict[str, Any]:
    st = state()
    full: dict[str, Any] = {
        "id": post.id,
        "message": post.message,
        "created_time": post.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "is_published": post.published,
        "permalink_url": permalink(post),
        "status_type": {
            "link": "shared_story",
            "photo": "added_photos",
            "photos": "added_photos",
            "video": "added_video",
        }.get(post.kind, "mobile_status_update"),
        "is_pinned": post.pinned,
    }
    if post.updated is not None:
        full["updated_time"] = post.updated.strftime("%Y-%m-%dT%H:%M:%S+0000")
    if post.scheduled_at is not None:
        full["scheduled_publish_time"] = int(post.scheduled_at.timestamp())
    if post.link:
        full["link"] = post.link
    attachments = [{"type": "photo", "target": {"id": pid}} for pid in post.photo_ids if pid in st.photos]
    if post.video_id:
        attachments.append({"type": "video_inline", "target": {"id": post.video_id}})
    if post.link:
        attachments.append({"type": "share", "url": post.link, "target": {"url": post.link}})
    if attachments:
        full["attachments"] = {"data": attachments}
    if post.photo_ids:
        full["full_picture"] = f"/graph/_media/{post.photo_ids[0]}"
    if not fields:
        return {k: full[k] for k in ("id", "message", "created_time") if k in full}
    # "attachments{...}" and "reactions.summary(total_count).limit(0)": the field is the first name
    wanted = [f.split("{", 1)[0].split(".", 1)[0].strip() for f in fields.split(",")]
    if post.published and set(wanted) & {"reactions", "comments", "shares"}:
        full.update(engagement_fields(post))
    return {k: full[k] for k in ["id", *wanted] if k in full}


def engagement_fields(post: GraphPost) -> dict[str, Any]:
    """The post's ``reactions`` and ``comments`` edges with their ``summary.total_count`` (no items:
    ``limit(0)``) and ``shares.count``, absent while nobody shared, as the Page Post reference has
    them (https://developers.facebook.com/docs/graph-api/reference/post/); from the simulation."""
    figures = engagement.simulation.figures(PLATFORM, post.id, post.created)
    out: dict[str, Any] = {
        "reactions": {
            "data": [],
            "summary": {"total_count": figures["reactions"], "viewer_reaction": "NONE"},
        },
        "comments": {
            "data": [],
            "summary": {"order": "ranked", "total_count": figures["comments"], "can_comment": True},
        },
    }
    if figures["shares"]:
        out["shares"] = {"count": figures["shares"]}
    return out


def window(posts: list[GraphPost], params: dict[str, str]) -> list[GraphPost]:
    since, until = parse_time(params.get("since")), parse_time(params.get("until"))
    chosen = [
        p for p in posts if (since is None or p.created >= since) and (until is None or p.created <= until)
    ]
    return sorted(chosen, key=lambda p: p.created, reverse=True)


def paged(items: list[dict[str, Any]], params: dict[str, str], base: str) -> dict[str, Any]:
    limit = max(1, min(100, int(params.get("limit", "25") or 25)))
    start = int(params.get("after", "0") or 0)
    body: dict[str, Any] = {"data": items[start : start + limit]}
    if start + limit < len(items):
        body["paging"] = {"cursors": {"after": str(start + limit)}, "next": f"{base}?after={start + limit}"}
    return body


async def read_upload(upload: UploadFile) -> tuple[int, str, bytes | None]:
    """Stream an uploaded file: its size, sha256, and the bytes if small enough to show."""
    hasher, size, kept = hashlib.sha256(), 0, bytearray()
    while chunk := await upload.read(1024 * 1024):
        hasher.update(chunk)
        size += len(chunk)
        if size <= PHOTO_KEEP_MAX:
            kept.extend(chunk)
    return size, hasher.hexdigest(), bytes(kept) if size <= PHOTO_KEEP_MAX else None


# ---------------------------------------------------------------- sandbox control for this emulator


class PageIn(BaseModel):
    id: str
    token: str
    name: str = "Trang thử nghiệm"


class TokenErrorIn(BaseModel):
    code: int = 190
    subcode: int | None = 463
    message: str = "Error validating access token: Session has expired."


@router.post("/_sandbox/pages")
def add_page(page: PageIn) -> dict[str, str]:
    """Declare a page and its page access token (replacing an earlier token of that page)."""
    state().pages[page.id] = Page(page.id, page.name, page.token)
    return {"id": page.id}


@router.post("/_sandbox/pages/{page_id}/token_error")
def set_token_error(page_id: str, error: TokenErrorIn) -> dict[str, str]:
    """Make the page's current token fail (e.g. 190/463 expired) until the token changes."""
    state().pages[page_id].token_error = (error.code, error.subcode, error.message)
    return {"id": page_id}


# ---------------------------------------------------------------- the Graph API


async def _handle(request: Request, page_id: str, action: Any) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    st = state()
    page: Page | None = None
    try:
        params, form = await params_of(request)
        page = authorize(st, token_of(request, params), page_id)
        st.refresh(sandbox.now())
        result = await action(st, page, params, form)
    except GraphError as e:
        return error_answer(e, page)
    return answer(result, page)


@router.api_route("/{version}/{page_id}/feed", methods=["GET", "POST"])
async def feed(version: str, page_id: str, request: Request) -> Response:
    async def act(st: GraphState, page: Page, params: dict[str, str], form: FormData | None) -> Any:
        if request.method == "GET":
            posts = [p for p in st.posts.values() if p.page_id == page.id and p.published]
            items = [post_fields(p, params.get("fields")) for p in window(posts, params)]
            return paged(items, params, str(request.url.path))
        return create_feed_post(st, page, params)

    return await _handle(request, page_id, act)


def create_feed_post(st: GraphState, page: Page, params: dict[str, str]) -> dict[str, Any]:
    message = check_message(params.get("message", ""))
    link = params.get("link") or None
    photo_ids = attached_media(st, page, params)
    if not message and not link and not photo_ids:
        raise GraphError(100, "(#100) Missing message or attachment", type_="OAuthException")
    if link and photo_ids:
        raise GraphError(100, "(#100) A post cannot have both a link and attached_media")
    published, when = scheduling(params)
    check_duplicate(st, page, message, link)
    post = GraphPost(
        id=f"{page.id}_{st.next_id()}",
        page_id=page.id,
        kind="photos" if photo_ids else "link" if link else "status",
        message=message,
        created=sandbox.now(),
        link=link,
        photo_ids=photo_ids,
        published=published,
        scheduled_at=when,
    )
    st.add_post(post)
    for pid in photo_ids:
        st.photos[pid].post_id = post.id
    sandbox.record(PLATFORM, "post", {"id": post.id, "page_id": page.id, "kind": post.kind, **_summary(post)})
    return {"id": post.id}


def attached_media(st: GraphState, page: Page, params: dict[str, str]) -> list[str]:
    """``attached_media[0]={"media_fbid":"..."}`` (or one JSON array): unpublished photos of this page."""
    raw: list[Any] = []
    if "attached_media" in params:
        raw = json.loads(params["attached_media"])
    indexed = sorted(
        (int(m.group(1)), v) for k, v in params.items() if (m := re.fullmatch(r"attached_media\[(\d+)\]", k))
    )
    raw += [json.loads(v) for _, v in indexed]
    ids = []
    for item in raw:
        fbid = str(item.get("media_fbid", "")) if isinstance(item, dict) else ""
        photo = st.photos.get(fbid)
        if photo is None or photo.page_id != page.id:
            raise GraphError(100, f"(#100) Invalid media_fbid: {fbid}", type_="OAuthException")
        if photo.published or photo.post_id is not None:
            raise GraphError(100, f"(#100) Photo {fbid} is published or already attached")
        ids.append(fbid)
    return ids


def _summary(post: GraphPost) -> dict[str, Any]:
    return {
        "message": post.message,
        "link": post.link,
        "photo_ids": post.photo_ids,
        "video_id": post.video_id,
        "published": post.published,
        "scheduled_publish_time": int(post.scheduled_at.timestamp()) if post.scheduled_at else None,
    }


@router.post("/{version}/{page_id}/photos")
async def photos(version: str, page_id: str, request: Request) -> Response:
    async def act(st: GraphState, page: Page, params: dict[str, str], form: FormData | None) -> Any:
        source = form.get("source") if form is not None else None
        if not isinstance(source, UploadFile):
            raise GraphError(324, "(#324) Requires upload file", type_="OAuthException")
        caption = check_message(params.get("caption") or params.get("message") or "")
        published, when = scheduling(params)
        temporary = parse_bool(params.get("temporary"), False)
        size, digest, data = await read_upload(source)
        photo = Photo(
            id=st.next_id(),
            page_id=page.id,
            published=published or when is not None,
            temporary=temporary,
            caption=caption,
            content_type=source.content_type or "image/jpeg",
            size=size,
            sha256=digest,
            data=data,
            created=sandbox.now(),
            alt_text_custom=params.get("alt_text_custom", ""),
        )
        st.photos[photo.id] = photo
        sandbox.record(
            PLATFORM,
            "photo",
            {
                "id": photo.id,
                "page_id": page.id,
                "size": size,
                "sha256": digest,
                "alt_text_custom": photo.alt_text_custom,
            },
        )
        if not photo.published:
            return {"id": photo.id}
        check_duplicate(st, page, caption, None)
        post = GraphPost(
            id=f"{page.id}_{st.next_id()}",
            page_id=page.id,
            kind="photo",
            message=caption,
            created=sandbox.now(),
            photo_ids=[photo.id],
            published=published,
            scheduled_at=when,
        )
        photo.post_id = post.id
        st.add_post(post)
        sandbox.record(
            PLATFORM, "post", {"id": post.id, "page_id": page.id, "kind": "photo", **_summary(post)}
        )
        return {"id": photo.id, "post_id": post.id}

    return await _handle(request, page_id, act)


@router.api_route("/{version}/{page_id}/videos", methods=["GET", "POST"])
async def videos(version: str, page_id: str, request: Request) -> Response:
    async def act(st: GraphState, page: Page, params: dict[str, str], form: FormData | None) -> Any:
        if request.method == "GET":
            items = [video_fields(v, st) for v in st.videos.values() if v.page_id == page.id and v.finished]
            items.sort(key=lambda v: v["created_time"], reverse=True)
            return paged(items, params, str(request.url.path))
        phase = params.get("upload_phase")
        if phase == "start":
            return video_start(st, page, params)
        if phase == "transfer":
            return await video_transfer(st, page, params, form)
        if phase == "finish":
            return video_finish(st, page, params)
        raise GraphError(100, "(#100) upload_phase must be start, transfer or finish (resumable upload only)")

    return await _handle(request, page_id, act)


def video_start(st: GraphState, page: Page, params: dict[str, str]) -> dict[str, str]:
    try:
        size = int(params["file_size"])
    except (KeyError, ValueError):
        raise GraphError(100, "(#100) The parameter file_size is required") from None
    if size <= 0:
        raise GraphError(100, "(#100) file_size must be positive")
    video = Video(id=st.next_id(), page_id=page.id, file_size=size, session_id=st.next_id())
    st.add_video(video)
    return {
        "video_id": video.id,
        "upload_session_id": video.session_id,
        "start_offset": "0",
        "end_offset": str(min(VIDEO_CHUNK, size)),
    }


def session_video(st: GraphState, page: Page, params: dict[str, str]) -> Video:
    sid = params.get("upload_session_id", "")
    video = st.sessions.get(sid)
    if video is None or video.page_id != page.id:
        raise GraphError(100, f"(#100) Invalid upload_session_id: {sid}")
    return video


async def video_transfer(
    st: GraphState, page: Page, params: dict[str, str], form: FormData | None
) -> dict[str, str]:
    video = session_video(st, page, params)
    chunk = form.get("video_file_chunk") if form is not None else None
    if not isinstance(chunk, UploadFile):
        raise GraphError(100, "(#100) The parameter video_file_chunk is required")
    start = int(params.get("start_offset", "-1"))
    if start != video.received:
        # The upload resumes where the server is; a client must send that chunk again.
        raise GraphError(
            6001,
            f"There was a problem uploading your video: expected start_offset {video.received}, got {start}",
            subcode=1363019,
            data=expected_chunk(video),
        )
    while data := await chunk.read(1024 * 1024):
        video.hasher.update(data)
        video.received += len(data)
    if video.received > video.file_size:
        raise GraphError(6001, "There was a problem uploading your video: more bytes than file_size")
    return expected_chunk(video)


def expected_chunk(video: Video) -> dict[str, str]:
    """The next chunk the session wants: the transfer answer, and the ``error_data`` of an upload
    out of step (facebook-python-business-sdk, facebook_business/video_uploader.py, reads
    ``error_data.start_offset``/``end_offset`` of subcode 1363037 to resume)."""
    end = min(video.received + VIDEO_CHUNK, video.file_size)
    return {"start_offset": str(video.received), "end_offset": str(end)}


def video_finish(st: GraphState, page: Page, params: dict[str, str]) -> dict[str, bool]:
    video = session_video(st, page, params)
    if video.received != video.file_size:
        raise GraphError(
            6001,
            f"Upload incomplete: {video.received} of {video.file_size} bytes",
            subcode=1363037,
            data=expected_chunk(video),
        )
    published, when = scheduling(params)
    video.finished, video.sha256 = True, video.hasher.hexdigest()
    video.description = check_message(params.get("description", ""))
    video.title, video.created = params.get("title", ""), sandbox.now()
    post = GraphPost(
        id=f"{page.id}_{st.next_id()}",
        page_id=page.id,
        kind="video",
        message=video.description,
        created=sandbox.now(),
        video_id=video.id,
        published=published,
        scheduled_at=when,
    )
    video.post_id = post.id
    st.add_post(post)
    sandbox.record(
        PLATFORM,
        "video",
        {
            "id": video.id,
            "post_id": post.id,
            "page_id": page.id,
            "size": video.file_size,
            "sha256": video.sha256,
        },
    )
    return {"success": True}


def video_fields(video: Video, st: GraphState) -> dict[str, Any]:
    post = st.posts.get(video.post_id or "")
    created = post.created if post else video.created or sandbox.now()
    body: dict[str, Any] = {
        "id": video.id,
        "description": post.message if post else video.description,
        "title": video.title,
        "created_time": created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "published": bool(post and post.published),
        "permalink_url": f"/{video.page_id}/videos/{video.id}/",
        "post_id": video.post_id,
    }
    if post is not None and post.scheduled_at is not None:
        body["scheduled_publish_time"] = int(post.scheduled_at.timestamp())
    return body


@router.get("/{version}/{page_id}/scheduled_posts")
async def scheduled_posts(version: str, page_id: str, request: Request) -> Response:
    async def act(st: GraphState, page: Page, params: dict[str, str], form: FormData | None) -> Any:
        posts = [p for p in st.posts.values() if p.page_id == page.id and not p.published and p.scheduled_at]
        items = [post_fields(p, params.get("fields")) for p in window(posts, params)]
        return paged(items, params, str(request.url.path))

    return await _handle(request, page_id, act)


def find_object(st: GraphState, object_id: str) -> GraphPost | Video | Photo:
    found = st.posts.get(object_id) or st.videos.get(object_id) or st.photos.get(object_id)
    if found is None:
        raise no_object(object_id)
    return found


OtherObject = Callable[[str, Request], Awaitable[Response | None]]
OTHER_OBJECTS: list[OtherObject] = []
"""Nodes other modules answer at ``/{version}/{object-id}`` (a comment: ``facebook_comments``); each
returns None for an id that is not one of its objects."""


async def graph_object(version: str, object_id: str, request: Request) -> Response:
    for other in OTHER_OBJECTS:
        handled = await other(object_id, request)
        if handled is not None:
            return handled
    await sandbox.enter(PLATFORM, request.url.path)
    st = state()
    page: Page | None = None
    try:
        params, _ = await params_of(request)
        obj = st.posts.get(object_id) or st.videos.get(object_id) or st.photos.get(object_id)
        owner = obj.page_id if obj is not None else object_id.partition("_")[0]
        page = authorize(st, token_of(request, params), owner)
        st.refresh(sandbox.now())
        obj = find_object(st, object_id)
        if request.method == "GET":
            return answer(object_fields(st, obj, params.get("fields")), page)
        if request.method == "DELETE":
            delete_object(st, obj)
            return answer({"success": True}, page)
        edit_object(st, obj, params)
        return answer({"success": True}, page)
    except GraphError as e:
        return error_answer(e, page)


def object_fields(st: GraphState, obj: GraphPost | Video | Photo, fields: str | None) -> dict[str, Any]:
    if isinstance(obj, GraphPost):
        return post_fields(obj, fields or "message,created_time,is_published,permalink_url")
    if isinstance(obj, Video):
        return video_fields(obj, st)
    return {
        "id": obj.id,
        "name": obj.caption,
        "created_time": obj.created.isoformat(),
        "post_id": obj.post_id,
    }


def delete_object(st: GraphState, obj: GraphPost | Video | Photo) -> None:
    post = obj if isinstance(obj, GraphPost) else st.posts.get(obj.post_id or "")
    if post is not None:
        st.remove_post(post.id)
        for pid in post.photo_ids:
            st.photos.pop(pid, None)
        if post.video_id:
            st.videos.pop(post.video_id, None)
        sandbox.record(PLATFORM, "delete", {"id": post.id, "page_id": post.page_id})
    if isinstance(obj, Video):
        st.videos.pop(obj.id, None)
    if isinstance(obj, Photo):
        st.photos.pop(obj.id, None)


def edit_object(st: GraphState, obj: GraphPost | Video | Photo, params: dict[str, str]) -> None:
    post = obj if isinstance(obj, GraphPost) else st.posts.get(obj.post_id or "")
    if post is None:
        raise GraphError(100, "(#100) This object cannot be edited")
    text = (
        params.get("description") if isinstance(obj, Video) else params.get("message", params.get("caption"))
    )
    if text is not None:
        post.message = check_message(text)
    if "is_pinned" in params:
        pin(st, post, parse_bool(params["is_pinned"], True))
    if "scheduled_publish_time" in params:
        if post.published:
            raise GraphError(100, "(#100) A published post cannot be rescheduled")
        _, when = scheduling({"published": "false", **params})
        post.scheduled_at = when
        st.scheduled[post.id] = post
    post.updated = sandbox.now()
    sandbox.record(PLATFORM, "edit", {"id": post.id, "page_id": post.page_id, **_summary(post)})


def pin(st: GraphState, post: GraphPost, pinned: bool) -> None:
    """``POST /{page-post-id}`` with ``is_pinned`` (Page Post reference, "Updating": ``is_pinned``,
    https://developers.facebook.com/docs/graph-api/reference/page-post/#updating): a Page shows one
    pinned post, so pinning one unpins the one before; a scheduled post cannot be pinned."""
    if pinned and not post.published:
        raise GraphError(100, "(#100) An unpublished post cannot be pinned")
    if pinned:
        for other in st.posts.values():
            if other.page_id == post.page_id and other is not post:
                other.pinned = False
    post.pinned = pinned
    sandbox.record(PLATFORM, "pin", {"id": post.id, "page_id": post.page_id, "is_pinned": pinned})


# ---------------------------------------------------------------- the page as a reader sees it


@router.get("/_media/{photo_id}")
def media(photo_id: str) -> Response:
    photo = state().photos.get(photo_id)
    if photo is None or photo.data is None:
        return Response(status_code=404)
    return Response(photo.data, media_type=photo.content_type)


HASHTAG = re.compile(r"#(\w+)")
URL = re.compile(r"https?://[^\s<]+")


def _rich(text: str) -> str:
    escaped = html.escape(text)
    escaped = URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    escaped = HASHTAG.sub(lambda m: f'<a class="tag" href="#">#{m.group(1)}</a>', escaped)
    return escaped.replace("\n", "<br>")


def render_post(post: GraphPost, page: Page | None) -> str:
    """One post as a Facebook reader sees it: page name, time, text, photos, link card or video."""
    st = state()
    when = (post.scheduled_at if not post.published and post.scheduled_at else post.created).astimezone(
        DEFAULT_TIMEZONE
    )
    badge = "" if post.published else f'<span class="badge">Đã lên lịch · {when:%H:%M %d/%m/%Y}</span>'
    parts = [
        '<article class="fb-post">',
        f"<header><b>{html.escape(page.name if page else post.page_id)}</b> · "
        f"<time>{when:%H:%M %d/%m/%Y}</time> {badge}</header>",
        f'<div class="msg">{_rich(post.message)}</div>',
    ]
    if post.photo_ids:
        imgs = "".join(
            f'<img src="/graph/_media/{pid}" alt="{html.escape(st.photos[pid].alt_text_custom)}">'
            for pid in post.photo_ids
            if pid in st.photos
        )
        parts.append(f'<div class="photos n{len(post.photo_ids)}">{imgs}</div>')
    if post.video_id and post.video_id in st.videos:
        video = st.videos[post.video_id]
        parts.append(f'<div class="video">▶ Video · {video.file_size / 1_048_576:.1f} MB</div>')
    if post.link:
        domain = re.sub(r"^https?://([^/]+).*$", r"\1", post.link)
        parts.append(
            f'<a class="card" href="{html.escape(post.link)}"><small>{html.escape(domain.upper())}</small>'
            f"<span>{html.escape(post.link)}</span></a>"
        )
    parts.append("</article>")
    return "".join(parts)


PAGE_CSS = """
body{font-family:system-ui,sans-serif;background:#f0f2f5;margin:0;padding:16px}
.fb-post{background:#fff;border-radius:8px;max-width:560px;margin:0 auto 16px;padding:12px;
box-shadow:0 1px 2px rgba(0,0,0,.2)}
header{color:#65676b;font-size:13px;margin-bottom:8px}header b{color:#050505;font-size:15px}
.msg{white-space:normal;font-size:15px;line-height:1.35}.tag{color:#216fdb;text-decoration:none}
.photos{display:grid;grid-template-columns:repeat(2,1fr);gap:2px;margin-top:8px}
.photos.n1{grid-template-columns:1fr}.photos img{width:100%;object-fit:cover}
.card{display:block;background:#f0f2f5;border:1px solid #dadde1;padding:8px;margin-top:8px;
color:#050505;text-decoration:none}.card small{color:#65676b;display:block}
.video{background:#000;color:#fff;padding:48px;text-align:center;margin-top:8px}
.badge{background:#e7f3ff;color:#1877f2;border-radius:4px;padding:1px 6px}
"""


@router.get("/_page", response_class=HTMLResponse)
def page_view(page_id: str | None = None) -> HTMLResponse:
    """Every page's posts (or one page's), newest first, scheduled ones marked."""
    st = state()
    now = sandbox.now()
    st.refresh(now)
    posts = sorted(
        (p for p in st.posts.values() if page_id is None or p.page_id == page_id),
        key=lambda p: p.created,
        reverse=True,
    )
    body = "".join(render_post(p, st.pages.get(p.page_id)) for p in posts) or "<p>Chưa có bài viết.</p>"
    return HTMLResponse(
        f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>Facebook (sandbox)</title>'
        f"<style>{PAGE_CSS}</style><body>{body}</body></html>"
    )


# Registered last: ``/{version}/{object-id}`` would otherwise shadow ``/_media/...`` and the control routes.
router.add_api_route("/{version}/{object_id}", graph_object, methods=["GET", "POST", "DELETE"])

"""YouTube Data API ``commentThreads.list?videoId=`` (the citizens' comments on an uploaded video).

Written from https://developers.google.com/youtube/v3/docs/commentThreads/list and the
``CommentThread``/``Comment`` resources: ``part`` is required (``id``, ``snippet``); ``videoId``
filters by video; ``maxResults`` 1–100 (default 20); ``order=time`` (the default, newest first) or
``relevance``; ``pageToken``/``nextPageToken``. Each thread's ``snippet.topLevelComment`` is a
``youtube#comment`` with ``textDisplay``, ``textOriginal``, ``authorDisplayName``,
``authorChannelId.value`` and ``publishedAt``. A video that does not exist answers 404
``videoNotFound``. Quota: 1 unit (developers.google.com/youtube/v3/determine_quota_cost).

Replies and moderation (issue #18 item 3), from developers.google.com/youtube/v3/docs/comments:
``comments.insert(part=snippet)`` with ``snippet.parentId`` and ``snippet.textOriginal`` (50 units)
answers the new ``youtube#comment`` (id ``<parentId>.<n>``, authored by the caller's channel);
400 ``parentIdMissing``, ``commentTextRequired``, ``commentTextTooLong`` (over 10,000 characters),
404 ``commentNotFound`` for an unknown parent (the method's error table as read lists the 400s and
403s; the 404 is assumed from the other comment methods). ``comments.list(parentId=…)`` (1 unit)
lists a thread's replies. ``comments.setModerationStatus(id, moderationStatus=heldForReview)``
(50 units) answers 204, 404 ``commentNotFound`` for an unknown id and 403 ``forbidden`` when the
caller does not own the video; ``commentThreads.list`` lists only published threads (its
``moderationStatus`` parameter's default), so a held comment leaves the listing and its count in
``totalReplyCount`` shows the replies.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.sandbox import citizen_comments
from services.sandbox.frame import Record, sandbox
from services.sandbox.youtube import PLATFORM, _enter, _parts, error
from services.sandbox.youtube_state import Video, YouTubeState

REPLY_MAX = 10_000
_replies: dict[str, list[dict[str, Any]]] = {}
_held: set[str] = set()
_seen: list[Record] | None = None


def _fresh() -> None:
    """A ``/_sandbox/reset`` (new records) clears the replies and the held comments."""
    global _replies, _held, _seen
    if _seen is not sandbox.records:
        _replies, _held, _seen = {}, set(), sandbox.records


def replies_of(comment_id: str) -> list[dict[str, Any]]:
    _fresh()
    return _replies.setdefault(comment_id, [])


def held() -> set[str]:
    """The comments held for review (``heldForReview``)."""
    _fresh()
    return _held


def video_of_comment(st: YouTubeState, comment_id: str) -> Video | None:
    """The video whose citizens' comment this is (top-level, ``Ug<id>``), if it exists now."""
    for video in st.videos.values():
        video.refresh(sandbox.now())
        if any(
            f"Ug{c.id}" == comment_id
            for c in citizen_comments.comments(PLATFORM, video.id, video.uploaded_at)
        ):
            return video
    return None


router = APIRouter(tags=["youtube"])


def _thread(video_id: str, channel: str, c: citizen_comments.CitizenComment) -> dict[str, Any]:
    published = c.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    comment = {
        "kind": "youtube#comment",
        "id": f"Ug{c.id}",
        "snippet": {
            "channelId": channel,
            "videoId": video_id,
            "textDisplay": c.text,
            "textOriginal": c.text,
            "authorDisplayName": c.author,
            "authorChannelId": {"value": f"UC{c.author_id}"},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": published,
            "updatedAt": published,
        },
    }
    return {
        "kind": "youtube#commentThread",
        "id": f"Ug{c.id}",
        "snippet": {
            "channelId": channel,
            "videoId": video_id,
            "topLevelComment": comment,
            "canReply": True,
            "totalReplyCount": len(replies_of(f"Ug{c.id}")),
            "isPublic": True,
        },
    }


@router.get("/youtube/v3/commentThreads")
async def list_comment_threads(request: Request) -> Response:
    _channel, st = await _enter(request, "commentThreads.list")
    parts = _parts(request.query_params, "commentThreads.list")
    video_id = request.query_params.get("videoId", "")
    video = st.videos.get(video_id)
    if video is None:
        return error(
            404, "videoNotFound", "The video identified by the videoId parameter could not be found."
        )
    video.refresh(sandbox.now())
    found = [
        c
        for c in citizen_comments.comments(PLATFORM, video.id, video.uploaded_at)
        if f"Ug{c.id}" not in held()
    ]
    if request.query_params.get("order", "time") == "time":
        found = found[::-1]
    per_page = max(1, min(int(request.query_params.get("maxResults", "20")), 100))
    start = int(request.query_params.get("pageToken") or 0)
    items = [
        {k: v for k, v in _thread(video.id, video.channel_id, c).items() if k in {"kind", "id", *parts}}
        for c in found[start : start + per_page]
    ]
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "items": items,
        "pageInfo": {"totalResults": len(found), "resultsPerPage": per_page},
    }
    if start + per_page < len(found):
        body["nextPageToken"] = str(start + per_page)
    return JSONResponse(body)


@router.post("/youtube/v3/comments")
async def insert_comment(request: Request) -> Response:
    channel, st = await _enter(request, "comments.insert")
    _parts(request.query_params, "comments.insert")
    snippet = (await request.json()).get("snippet") or {}
    parent, text = str(snippet.get("parentId") or ""), str(snippet.get("textOriginal") or "")
    if not parent:
        return error(400, "parentIdMissing", "The comment must be linked to a parent comment.")
    if not text.strip():
        return error(
            400, "commentTextRequired", "The comment resource must contain a value for snippet.textOriginal."
        )
    if len(text) > REPLY_MAX:
        return error(
            400, "commentTextTooLong", "The snippet.textOriginal property contains too many characters."
        )
    video = video_of_comment(st, parent)
    if video is None:
        return error(404, "commentNotFound", "The parent comment could not be found.")
    replies = replies_of(parent)
    published = sandbox.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = {
        "kind": "youtube#comment",
        "id": f"{parent}.{len(replies) + 1:04d}",
        "snippet": {
            "channelId": video.channel_id,
            "videoId": video.id,
            "parentId": parent,
            "textDisplay": text,
            "textOriginal": text,
            "authorDisplayName": channel,
            "authorChannelId": {"value": channel},
            "publishedAt": published,
            "updatedAt": published,
        },
    }
    replies.append(reply)
    sandbox.record(PLATFORM, "comment_reply", {"id": reply["id"], "parent_id": parent, "text": text})
    return JSONResponse(reply)


@router.get("/youtube/v3/comments")
async def list_comments(request: Request) -> Response:
    _channel, st = await _enter(request, "comments.list")
    _parts(request.query_params, "comments.list")
    parent = request.query_params.get("parentId", "")
    if video_of_comment(st, parent) is None:
        return error(
            404, "commentNotFound", "The comment identified by the parentId parameter could not be found."
        )
    items = replies_of(parent)
    return JSONResponse(
        {"kind": "youtube#commentListResponse", "items": items, "pageInfo": {"totalResults": len(items)}}
    )


@router.post("/youtube/v3/comments/setModerationStatus")
async def set_moderation_status(request: Request) -> Response:
    channel, st = await _enter(request, "comments.setModerationStatus")
    _parts(request.query_params, "comments.setModerationStatus")
    status = request.query_params.get("moderationStatus", "")
    if status not in {"heldForReview", "published", "rejected"}:
        return error(
            400, "invalidModerationStatus", "The moderationStatus parameter is not valid.", domain="global"
        )
    ids = [i for i in request.query_params.get("id", "").split(",") if i]
    videos = [video_of_comment(st, i) for i in ids]
    if not ids or any(v is None for v in videos):
        return error(
            404,
            "commentNotFound",
            "One or more comments that the request is trying to update cannot be found.",
        )
    if any(v is not None and v.channel_id != channel for v in videos):
        return error(
            403,
            "forbidden",
            "The moderation status of one or more comments cannot be set due to insufficient permissions.",
        )
    marks = held()
    for comment_id in ids:
        (marks.add if status == "heldForReview" else marks.discard)(comment_id)
        sandbox.record(PLATFORM, "comment_moderation", {"id": comment_id, "status": status})
    return Response(status_code=204)

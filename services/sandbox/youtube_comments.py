"""YouTube Data API ``commentThreads.list?videoId=`` (the citizens' comments on an uploaded video).

Written from https://developers.google.com/youtube/v3/docs/commentThreads/list and the
``CommentThread``/``Comment`` resources: ``part`` is required (``id``, ``snippet``); ``videoId``
filters by video; ``maxResults`` 1–100 (default 20); ``order=time`` (the default, newest first) or
``relevance``; ``pageToken``/``nextPageToken``. Each thread's ``snippet.topLevelComment`` is a
``youtube#comment`` with ``textDisplay``, ``textOriginal``, ``authorDisplayName``,
``authorChannelId.value`` and ``publishedAt``. A video that does not exist answers 404
``videoNotFound``. Quota: 1 unit (developers.google.com/youtube/v3/determine_quota_cost).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.sandbox import citizen_comments
from services.sandbox.frame import sandbox
from services.sandbox.youtube import PLATFORM, _enter, _parts, error

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
            "totalReplyCount": 0,
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
    found = citizen_comments.comments(PLATFORM, video.id, video.uploaded_at)
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

"""Graph API comments on a Page post (``/{object-id}/comments``), for a correction's link step.

Written from the Comments edge reference
(https://developers.facebook.com/docs/graph-api/reference/object/comments/): ``POST`` with
``message`` (or an attachment) answers ``{"id": "<comment-id>"}``; ``GET`` lists the comments
(``data`` of ``id``, ``message``, ``created_time``, ``from``) with ``paging``. An object that does
not exist answers error 100 (subcode 33), as every Graph read does; no ``message`` and no attachment
answers error 100 "Missing message or attachment". facebook-sdk's ``GraphAPI.put_comment(object_id,
message)`` posts exactly ``/{object_id}/comments`` with ``message``.

Besides the Page's own comments, ``GET`` lists the citizens' comments of the seeded simulation
(``citizen_comments``), in time order (``order=reverse_chronological`` reverses it, as Graph's
``order`` parameter does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from services.sandbox import citizen_comments
from services.sandbox.facebook import (
    PLATFORM,
    GraphError,
    GraphPost,
    GraphState,
    Page,
    _handle,
    check_message,
    no_object,
    paged,
    state,
)
from services.sandbox.frame import Record, sandbox

router = APIRouter(prefix="/graph", tags=["facebook graph api"])


@dataclass
class Comment:
    id: str
    post_id: str
    message: str
    created: datetime
    page: Page


_comments: dict[str, list[Comment]] = {}
_seen: list[Record] | None = None


def comments_of(post_id: str) -> list[Comment]:
    """The comments of one post (a ``/_sandbox/reset`` clears them with the rest)."""
    global _comments, _seen
    if _seen is not sandbox.records:
        _comments, _seen = {}, sandbox.records
    return _comments.setdefault(post_id, [])


def _fields(comment: Comment) -> dict[str, object]:
    return {
        "id": comment.id,
        "message": comment.message,
        "created_time": comment.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "from": {"id": comment.page.id, "name": comment.page.name},
    }


def _citizen(post: GraphPost, comment: citizen_comments.CitizenComment) -> dict[str, object]:
    return {
        "id": f"{post.id.partition('_')[2]}_{comment.id}",
        "message": comment.text,
        "created_time": comment.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "from": {"id": comment.author_id, "name": comment.author},
    }


def listed(post: GraphPost) -> list[dict[str, object]]:
    """Every comment of the post (the Page's own and the citizens'), oldest first."""
    dated = [(c.created, _fields(c)) for c in comments_of(post.id)] + [
        (c.created, _citizen(post, c)) for c in citizen_comments.comments(PLATFORM, post.id, post.created)
    ]
    return [fields for _, fields in sorted(dated, key=lambda d: d[0])]


def _add(post: GraphPost, page: Page, message: str) -> Comment:
    if not message:
        raise GraphError(100, "(#100) Missing message or attachment")
    st = state()
    comment = Comment(
        f"{post.id.partition('_')[2]}_{st.next_id()}", post.id, check_message(message), sandbox.now(), page
    )
    comments_of(post.id).append(comment)
    sandbox.record(PLATFORM, "comment", {"id": comment.id, "post_id": post.id, "message": comment.message})
    return comment


@router.api_route("/{version}/{object_id}/comments", methods=["GET", "POST"])
async def comments(version: str, object_id: str, request: Request) -> Response:
    async def act(st: GraphState, page: Page, params: dict[str, str], _form: object) -> dict[str, Any]:
        post = st.posts.get(object_id)
        if post is None or not post.published or post.page_id != page.id:
            raise no_object(object_id)
        if request.method == "POST":
            return {"id": _add(post, page, params.get("message", "")).id}
        found = listed(post)
        ordered = found[::-1] if params.get("order") == "reverse_chronological" else found
        return paged(ordered, params, str(request.url.path))

    # A Page post's id is "<page id>_<story id>": its Page answers for it (tokens, errors, usage).
    return await _handle(request, object_id.partition("_")[0], act)

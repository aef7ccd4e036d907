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

A comment is a node too (Comment reference, developers.facebook.com/docs/graph-api/reference/comment;
its id ``{pagepost-id}_{comment-id}``, here ``<story>_<n>``): ``POST /{comment-id}/comments`` with
``message`` replies to it as the Page whose token it is (``{"id": ...}``), ``GET /{comment-id}/comments``
lists its replies, and ``POST /{comment-id}`` with ``is_hidden=true|false`` hides or shows it
(``{"success": true}``). A post's listing shows top-level comments (Graph's default
``filter=toplevel``); ``filter=stream`` adds the replies. ``is_hidden`` is given when ``fields``
asks for it. An unknown comment id answers error 100 (subcode 33); another Page's token (#200).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from services.sandbox import citizen_comments
from services.sandbox.facebook import (
    OTHER_OBJECTS,
    PLATFORM,
    GraphError,
    GraphPost,
    GraphState,
    Page,
    _handle,
    check_message,
    no_object,
    paged,
    parse_bool,
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
_hidden: set[str] = set()
_seen: list[Record] | None = None


def _fresh() -> None:
    """A ``/_sandbox/reset`` (new records) clears the comments, replies and hidden marks."""
    global _comments, _hidden, _seen
    if _seen is not sandbox.records:
        _comments, _hidden, _seen = {}, set(), sandbox.records


def comments_of(object_id: str) -> list[Comment]:
    """The Page's comments on one post, or its replies to one comment."""
    _fresh()
    return _comments.setdefault(object_id, [])


def hidden() -> set[str]:
    """The ids of the comments hidden with ``is_hidden=true``."""
    _fresh()
    return _hidden


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


def listed(post: GraphPost, *, stream: bool = False) -> list[dict[str, object]]:
    """Every top-level comment of the post (the Page's own and the citizens'), oldest first; with
    ``stream``, the Page's replies to them too."""
    dated = [(c.created, _fields(c)) for c in comments_of(post.id)] + [
        (c.created, _citizen(post, c)) for c in citizen_comments.comments(PLATFORM, post.id, post.created)
    ]
    if stream:
        dated += [(r.created, _fields(r)) for _, top in list(dated) for r in comments_of(str(top["id"]))]
    return [fields for _, fields in sorted(dated, key=lambda d: d[0])]


def with_hidden(items: list[dict[str, object]], fields: str | None) -> list[dict[str, object]]:
    """``is_hidden`` on each comment when ``fields`` asks for it."""
    if "is_hidden" not in (fields or "").split(","):
        return items
    marks = hidden()
    return [{**item, "is_hidden": item["id"] in marks} for item in items]


def post_of(st: GraphState, comment_id: str) -> GraphPost | None:
    """The published post a comment id names (``<story>_<n>``), whether or not that comment exists."""
    story, sep, _ = comment_id.partition("_")
    if not sep:
        return None
    return next((p for p in st.posts.values() if p.published and p.id.partition("_")[2] == story), None)


def post_of_comment(st: GraphState, comment_id: str) -> GraphPost | None:
    """The published post a comment (or one of the Page's replies) is on, if it exists now."""
    post = post_of(st, comment_id)
    if post is None or not any(c["id"] == comment_id for c in listed(post, stream=True)):
        return None
    return post


def _add(post: GraphPost, page: Page, message: str, parent: str | None = None) -> Comment:
    if not message:
        raise GraphError(100, "(#100) Missing message or attachment")
    st = state()
    comment = Comment(
        f"{post.id.partition('_')[2]}_{st.next_id()}", post.id, check_message(message), sandbox.now(), page
    )
    comments_of(parent or post.id).append(comment)
    record = {"id": comment.id, "post_id": post.id, "message": comment.message, "parent_id": parent}
    sandbox.record(PLATFORM, "comment", record)
    return comment


@router.api_route("/{version}/{object_id}/comments", methods=["GET", "POST"])
async def comments(version: str, object_id: str, request: Request) -> Response:
    st = state()
    on_comment = object_id not in st.posts and post_of_comment(st, object_id) is not None

    async def act(st: GraphState, page: Page, params: dict[str, str], _form: object) -> dict[str, Any]:
        post = post_of_comment(st, object_id) if on_comment else st.posts.get(object_id)
        if post is None or not post.published or post.page_id != page.id:
            raise no_object(object_id)
        if request.method == "POST":
            return {"id": _add(post, page, params.get("message", ""), object_id).id}
        if on_comment:
            found = [_fields(r) for r in comments_of(object_id)]
        else:
            found = listed(post, stream=params.get("filter") == "stream")
        ordered = found[::-1] if params.get("order") == "reverse_chronological" else found
        return paged(with_hidden(ordered, params.get("fields")), params, str(request.url.path))

    # A Page post's id is "<page id>_<story id>": its Page answers for it (tokens, errors, usage);
    # a comment's, its post's Page.
    owner = post_of_comment(st, object_id) if on_comment else None
    return await _handle(request, owner.page_id if owner else object_id.partition("_")[0], act)


async def comment_node(object_id: str, request: Request) -> Response | None:
    """``/{comment-id}``: GET its fields, POST ``is_hidden``; None for an id that is no comment."""
    st = state()
    if object_id in st.posts or object_id in st.videos or object_id in st.photos:
        return None
    post = post_of(st, object_id)
    if post is None:
        return None

    async def act(st: GraphState, page: Page, params: dict[str, str], _form: object) -> dict[str, Any]:
        if post_of_comment(st, object_id) is None:  # on a post of this Page, but no such comment
            raise no_object(object_id)
        if request.method == "POST":
            if "is_hidden" not in params:
                raise GraphError(100, "(#100) Param is_hidden must be set to update a comment")
            marks = hidden()
            if parse_bool(params["is_hidden"], False):
                marks.add(object_id)
            else:
                marks.discard(object_id)
            sandbox.record(PLATFORM, "comment_hidden", {"id": object_id, "hidden": object_id in marks})
            return {"success": True}
        if request.method == "GET":
            [found] = [c for c in listed(post, stream=True) if c["id"] == object_id]
            return with_hidden([found], "is_hidden")[0]
        raise GraphError(100, "(#100) Unsupported delete request on a comment in the sandbox")

    return await _handle(request, post.page_id, act)


OTHER_OBJECTS.append(comment_node)

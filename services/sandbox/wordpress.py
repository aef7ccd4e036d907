"""WordPress REST API emulator (``/wordpress/wp-json/wp/v2/...``): posts, media, tags, categories.

Faithful to the WordPress REST API Handbook (developer.wordpress.org/rest-api/reference/posts/,
/media/) and to ``WP_REST_Posts_Controller``: application passwords over Basic auth, status
``publish|future|draft|pending|private``, ``date_gmt`` in the future → ``future`` (WordPress's
cron publishes it when due; here, when the sandbox clock passes it), ``DELETE`` trashes unless
``force=true`` and a second trash answers ``410 rest_already_trashed``. Errors have WordPress's
shape ``{"code": "rest_...", "message": ..., "data": {"status": N}}``.

Users: any user name with a 24-character application password (spaces ignored, as WordPress
does); a password starting with ``revoked`` is refused (401 ``incorrect_password``); a user
named ``contributor...`` has the contributor role (may not publish or upload: 403).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.sandbox.frame import Fault, PresetArgs, sandbox

PLATFORM = "wordpress"
SITE = "http://127.0.0.1:8090/wordpress"
STATUSES = ("publish", "future", "draft", "pending", "private")
_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)

router = APIRouter(prefix="/wordpress/wp-json/wp/v2", tags=["WordPress REST API"])


class _State:
    def __init__(self) -> None:
        self.posts: dict[int, dict[str, Any]] = {}
        self.media: dict[int, dict[str, Any]] = {}
        self.terms: dict[str, dict[int, dict[str, Any]]] = {"tags": {}, "categories": {}}
        self.ids = itertools.count(1)


state = _State()


def error(code: str, message: str, status: int, **data: Any) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "data": {"status": status, **data}}, status_code=status
    )


def invalid_param(name: str, reason: str) -> JSONResponse:
    return error("rest_invalid_param", f"Invalid parameter(s): {name}", 400, params={name: reason})


def user_of(request: Request) -> tuple[str | None, JSONResponse | None]:
    """(user name, None) when authenticated, (None, None) when anonymous, (None, error) when refused."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None, None
    try:
        name, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, error("rest_invalid_auth", "Malformed Authorization header.", 401)
    password = password.replace(" ", "")
    if not name:
        return None, error(
            "invalid_username", "Unknown username. Check again or try your email address.", 401
        )
    if len(password) != 24 or not password.isalnum() or password.startswith("revoked"):
        return None, error(
            "incorrect_password", "The provided password is an invalid application password.", 401
        )
    return name, None


def is_contributor(user: str) -> bool:
    return user.startswith("contributor")


def wp_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def publish_due() -> None:
    """WP-Cron: scheduled posts whose time has come go live."""
    now = sandbox.now()
    for post in state.posts.values():
        if post["status"] == "future" and datetime.fromisoformat(post["date_gmt"]).replace(tzinfo=UTC) <= now:
            post["status"] = "publish"
            post["link"] = permalink(post)


def permalink(post: dict[str, Any]) -> str:
    if post["status"] != "publish":
        return f"{SITE}/?p={post['id']}"
    date = datetime.fromisoformat(post["date_gmt"])
    return f"{SITE}/{date:%Y/%m/%d}/{post['slug']}/"


def unique_slug(slug: str, own_id: int | None = None) -> str:
    taken = {p["slug"] for p in state.posts.values() if p["id"] != own_id}
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def view(post: dict[str, Any], context: str = "view") -> dict[str, Any]:
    rendered = {
        "id": post["id"],
        "date": post["date_gmt"],
        "date_gmt": post["date_gmt"],
        "modified_gmt": post["modified_gmt"],
        "slug": post["slug"],
        "status": post["status"],
        "type": "post",
        "link": post["link"],
        "title": {"rendered": post["title"]},
        "content": {"rendered": post["content"], "protected": False},
        "excerpt": {"rendered": f"<p>{post['excerpt']}</p>" if post["excerpt"] else "", "protected": False},
        "featured_media": post["featured_media"],
        "tags": post.get("tags", []),
        "categories": post.get("categories", []),
        "guid": {"rendered": f"{SITE}/?p={post['id']}"},
    }
    if context == "edit":
        rendered["title"]["raw"] = post["title"]
        rendered["content"]["raw"] = post["content"]
    return rendered


async def _apply(post: dict[str, Any], body: dict[str, Any], user: str) -> JSONResponse | None:
    """Validate and apply writable fields; the error WordPress would answer, if any."""
    status = body.get("status", post.get("status", "draft"))
    if status not in STATUSES:
        return invalid_param("status", f"status is not one of {', '.join(STATUSES)}.")
    if status in {"publish", "future", "private"} and is_contributor(user):
        return error(
            "rest_cannot_publish", "Sorry, you are not allowed to publish posts in this post type.", 403
        )
    if "date_gmt" in body:
        try:
            when = datetime.fromisoformat(str(body["date_gmt"]).replace("Z", "")).replace(tzinfo=UTC)
        except ValueError:
            return invalid_param("date_gmt", "Invalid date.")
        post["date_gmt"] = wp_date(when)
    post.setdefault("date_gmt", wp_date(sandbox.now()))
    featured = body.get("featured_media", post.get("featured_media", 0))
    if featured and int(featured) not in state.media:
        return error("rest_invalid_featured_media", "Invalid featured media ID.", 400)
    for field in ("title", "content", "excerpt"):
        if field in body:
            value = body[field]
            post[field] = value.get("raw", "") if isinstance(value, dict) else str(value)
        post.setdefault(field, "")
    if not (post["title"] or post["content"] or post["excerpt"]):
        return error("empty_content", "Content, title, and excerpt are empty.", 400)
    post["featured_media"] = int(featured or 0)
    for taxonomy in ("tags", "categories"):
        ids = body.get(taxonomy, post.get(taxonomy, []))
        unknown = [i for i in ids if int(i) not in state.terms[taxonomy]]
        if unknown:  # WP_REST_Posts_Controller::handle_terms: only existing term ids
            return invalid_param(taxonomy, f"{taxonomy}[0] is not a valid term ID: {unknown[0]}.")
        post[taxonomy] = [int(i) for i in ids]
    due = datetime.fromisoformat(post["date_gmt"]).replace(tzinfo=UTC)
    # wp_insert_post: a publish dated ahead becomes future; a future dated past publishes now.
    if status == "publish" and due > sandbox.now():
        status = "future"
    elif status == "future" and due <= sandbox.now():
        status = "publish"
    post["status"] = status
    if "slug" in body:
        post["slug"] = unique_slug(str(body["slug"]), post.get("id"))
    elif not post.get("slug"):
        post["slug"] = unique_slug(
            re.sub(r"[^a-z0-9]+", "-", post["title"].lower()).strip("-") or str(post["id"])
        )
    post["modified_gmt"] = wp_date(sandbox.now())
    post["link"] = permalink(post)
    return None


def _auth_for_write(request: Request, action: str) -> tuple[str | None, JSONResponse | None]:
    user, refused = user_of(request)
    if refused is not None:
        return None, refused
    if user is None:
        return None, error(
            f"rest_cannot_{action}", f"Sorry, you are not allowed to {action} posts as this user.", 401
        )
    return user, None


@router.post("/posts")
async def create_post(request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    user, refused = _auth_for_write(request, "create")
    if refused is not None or user is None:
        return refused or error(
            "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.", 401
        )
    try:
        body = await request.json()
    except ValueError:
        return error("rest_invalid_json", "Invalid JSON body passed.", 400)
    post: dict[str, Any] = {"id": next(state.ids)}
    if (problem := await _apply(post, body, user)) is not None:
        return problem
    state.posts[post["id"]] = post
    sandbox.record(
        PLATFORM, "post", {"id": post["id"], "status": post["status"], "title": post["title"], "user": user}
    )
    return JSONResponse(view(post, "edit"), status_code=201)


@router.get("/posts")
async def list_posts(request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    publish_due()
    user, refused = user_of(request)
    if refused is not None:
        return refused
    statuses = [s for s in request.query_params.get("status", "publish").split(",") if s]
    if any(s not in (*STATUSES, "trash", "any") for s in statuses):
        return invalid_param(
            "status", "status is not one of publish, future, draft, pending, private, trash, any."
        )
    if statuses != ["publish"] and user is None:
        return error("rest_forbidden_status", "Status is forbidden.", 401)
    if request.query_params.get("context") == "edit" and user is None:
        return error(
            "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.", 401
        )
    wanted = set(STATUSES) if "any" in statuses else set(statuses)
    slug = request.query_params.get("slug")
    found = [
        view(p, request.query_params.get("context", "view"))
        for p in sorted(state.posts.values(), key=lambda p: p["date_gmt"], reverse=True)
        if p["status"] in wanted and (slug is None or p["slug"] in slug.split(","))
    ]
    return JSONResponse(found, headers={"X-WP-Total": str(len(found)), "X-WP-TotalPages": "1"})


def _find(post_id: int) -> dict[str, Any] | None:
    return state.posts.get(post_id)


@router.get("/posts/{post_id}")
async def get_post(post_id: int, request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    publish_due()
    user, refused = user_of(request)
    if refused is not None:
        return refused
    post = _find(post_id)
    if post is None or (post["status"] != "publish" and user is None):
        return error("rest_post_invalid_id", "Invalid post ID.", 404)
    return JSONResponse(view(post, request.query_params.get("context", "view")))


@router.post("/posts/{post_id}")
async def update_post(post_id: int, request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    user, refused = _auth_for_write(request, "edit")
    if refused is not None or user is None:
        return refused or error("rest_cannot_edit", "Sorry, you are not allowed to edit this post.", 401)
    post = _find(post_id)
    if post is None:
        return error("rest_post_invalid_id", "Invalid post ID.", 404)
    try:
        body = await request.json()
    except ValueError:
        return error("rest_invalid_json", "Invalid JSON body passed.", 400)
    updated = dict(post)
    if (problem := await _apply(updated, body, user)) is not None:
        return problem
    state.posts[post_id] = updated
    sandbox.record(
        PLATFORM, "update", {"id": post_id, "status": updated["status"], "title": updated["title"]}
    )
    return JSONResponse(view(updated, "edit"))


@router.delete("/posts/{post_id}")
async def delete_post(post_id: int, request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    user, refused = _auth_for_write(request, "delete")
    if refused is not None or user is None:
        return refused or error("rest_cannot_delete", "Sorry, you are not allowed to delete this post.", 401)
    post = _find(post_id)
    if post is None:
        return error("rest_post_invalid_id", "Invalid post ID.", 404)
    if is_contributor(user) and post["status"] == "publish":
        return error("rest_cannot_delete", "Sorry, you are not allowed to delete this post.", 403)
    if request.query_params.get("force") in {"true", "1"}:
        del state.posts[post_id]
        sandbox.record(PLATFORM, "delete", {"id": post_id})
        return JSONResponse({"deleted": True, "previous": view(post, "edit")})
    if post["status"] == "trash":
        return error("rest_already_trashed", "The post has already been deleted.", 410)
    post["status"] = "trash"
    post["link"] = permalink(post)
    sandbox.record(PLATFORM, "trash", {"id": post_id})
    return JSONResponse(view(post, "edit"))


TAXONOMIES = {"tags": "post_tag", "categories": "category"}


def term_view(term: dict[str, Any]) -> dict[str, Any]:
    return {k: term[k] for k in ("id", "name", "slug", "taxonomy")}


@router.get("/tags")
@router.get("/categories")
async def list_terms(request: Request) -> Response:
    """``GET /wp/v2/tags|categories?search=`` (REST reference, "List Tags"): names containing it."""
    await sandbox.enter(PLATFORM, request.url.path)
    taxonomy = request.url.path.rsplit("/", 1)[-1]
    search = request.query_params.get("search", "").casefold()
    found = [term_view(t) for t in state.terms[taxonomy].values() if search in t["name"].casefold()]
    return JSONResponse(found)


@router.post("/tags")
@router.post("/categories")
async def create_term(request: Request) -> Response:
    """``POST /wp/v2/tags|categories`` with ``name`` (REST reference, "Create a Tag"): needs the
    taxonomy's ``edit_terms`` capability, which core maps to ``manage_categories`` (editors and up:
    a contributor here is refused); an existing name is 400 ``term_exists`` with its ``term_id``."""
    await sandbox.enter(PLATFORM, request.url.path)
    taxonomy = request.url.path.rsplit("/", 1)[-1]
    user, refused = user_of(request)
    if refused is not None:
        return refused
    if user is None or is_contributor(user):
        status = 401 if user is None else 403
        return error(
            "rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy.", status
        )
    name = str((await request.json()).get("name", "")).strip()
    if not name:
        return invalid_param("name", "name is required.")
    for term in state.terms[taxonomy].values():
        if term["name"].casefold() == name.casefold():
            return error(
                "term_exists", "A term with the name provided already exists.", 400, term_id=term["id"]
            )
    term = {"id": next(state.ids), "name": name, "taxonomy": TAXONOMIES[taxonomy]}
    term["slug"] = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or str(term["id"])
    state.terms[taxonomy][term["id"]] = term
    sandbox.record(PLATFORM, "term", term_view(term))
    return JSONResponse(term_view(term), status_code=201)


@router.post("/media")
async def upload_media(request: Request) -> Response:
    await sandbox.enter(PLATFORM, request.url.path)
    user, refused = user_of(request)
    if refused is not None:
        return refused
    if user is None:
        return error("rest_cannot_create", "Sorry, you are not allowed to upload media on this site.", 401)
    if is_contributor(user):
        return error("rest_cannot_create", "Sorry, you are not allowed to upload media on this site.", 403)
    disposition = request.headers.get("content-disposition", "")
    found = _FILENAME.search(disposition)
    if not found:
        return error("rest_upload_no_content_disposition", "No Content-Disposition supplied.", 400)
    data = await request.body()
    if not data:
        return error("rest_upload_no_data", "No data supplied.", 400)
    mime = request.headers.get("content-type", "")
    if not mime.startswith(("image/", "video/", "audio/", "application/pdf")):
        return error(
            "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.", 500
        )
    media_id = next(state.ids)
    filename = found.group(1)
    item = {
        "id": media_id,
        "date_gmt": wp_date(sandbox.now()),
        "slug": filename.rsplit(".", 1)[0],
        "status": "inherit",
        "type": "attachment",
        "link": f"{SITE}/?attachment_id={media_id}",
        "title": {"rendered": filename.rsplit(".", 1)[0]},
        "alt_text": request.query_params.get("alt_text", ""),
        "caption": {"rendered": request.query_params.get("caption", "")},
        "media_type": "image" if mime.startswith("image/") else "file",
        "mime_type": mime,
        "source_url": f"{SITE}/wp-content/uploads/{sandbox.now():%Y/%m}/{filename}",
        "media_details": {"filesize": len(data)},
    }
    state.media[media_id] = item
    sandbox.record(PLATFORM, "media", {"id": media_id, "filename": filename, "size": len(data), "mime": mime})
    return JSONResponse(item, status_code=201)


def _wp_error(status: int, code: str, message: str, **headers: str) -> Callable[[PresetArgs], Fault]:
    body = {"code": code, "message": message, "data": {"status": status}}
    return lambda args: Fault(args.platform, status, body, headers=dict(headers))


def _rate_limited(args: PresetArgs) -> Fault:
    # WordPress core has no rate limit; the hosts and firewalls in front of it answer 429.
    body = {"code": "rest_too_many_requests", "message": "Too many requests.", "data": {"status": 429}}
    return Fault(args.platform, 429, body, headers={"Retry-After": str(args.reset_after_s)})


sandbox.register_presets(
    PLATFORM,
    {
        "expired_token": _wp_error(
            401, "incorrect_password", "The provided password is an invalid application password."
        ),
        "rate_limit": _rate_limited,
        "server_error": _wp_error(
            500, "internal_server_error", "There has been a critical error on this website."
        ),
    },
)
sandbox.on_reset(lambda: state.__init__())  # type: ignore[misc]

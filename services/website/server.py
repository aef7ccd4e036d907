"""The read-only website server (port 8082): serves the public bucket the way nginx would.

Correct content types, ETag / If-None-Match → 304, byte ranges for video, ``index.html`` for
folders, 404 and 410 (a withdrawn marker object → 410). Run it alone with
``python -m services.website.server``; the website publisher also runs it in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import threading
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from loa.access.bearer import BearerTokens
from loa.access.policy import Policy
from loa.access.tokens import TokenStore
from loa.health import Readiness, health_routes, object_store_probe
from loa.logging import configure
from loa.media import MediaStore
from loa.outages import RETRY_AFTER_SECONDS, classify
from services.website.settings import WebsiteSettings
from services.website.site.bucket import ObjectInfo, SiteBucket
from services.website.site.entries import INTERNAL_PREFIXES, WITHDRAWN
from services.website.site.render import SiteInfo, render_status
from services.website.views import PageViews, counts_as_view
from services.website.views_api import PATH as VIEWS_PATH
from services.website.views_api import Counting, flushing, views_endpoint

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
IMMUTABLE = ("media/", "assets/")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # Nothing on the site runs script; the policy says so to the browser too (defence in depth).
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_FALLBACK = {
    404: b"<!doctype html><title>404</title><h1>404</h1>",
    410: b"<!doctype html><title>410</title><h1>410</h1>",
    503: "<!doctype html><meta charset=utf-8><title>503</title><h1>Trang tạm thời gián đoạn</h1>".encode(),
}


def key_of(path: str) -> str | None:
    """The bucket key a URL path names, or None if the path may not be served."""
    if len(path) > 1024 or "\\" in path or "\x00" in path:
        return None
    parts = path.split("/")
    if any(p in {".", ".."} for p in parts) or "//" in path:
        return None
    key = path.lstrip("/")
    if key == "" or key.endswith("/"):
        key += "index.html"
    if key.startswith(INTERNAL_PREFIXES):
        return None
    return key


def content_type(info: ObjectInfo) -> str:
    if info.content_type and info.content_type != "application/octet-stream":
        return info.content_type
    guessed, _ = mimetypes.guess_type(info.key)
    return guessed or "application/octet-stream"


def cache_control(key: str) -> str:
    if key.startswith(IMMUTABLE):
        return "public, max-age=31536000, immutable"
    return "public, max-age=60"


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags


def build_app(
    bucket: SiteBucket, unavailable_page: bytes = _FALLBACK[503], counting: Counting | None = None
) -> Starlette:
    """The server; ``unavailable_page`` is the 503 page shown while the object store is down;
    with ``counting`` it counts article views (``views.py``) and answers ``GET /_api/v1/views``."""
    readiness = Readiness({"object_store": object_store_probe(bucket.client, bucket.bucket)})

    async def stat(key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(bucket.stat, key)

    async def page(code: int, key: str, head: bool) -> Response:
        body = await asyncio.to_thread(bucket.get, key) or _FALLBACK[code]
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
        return Response(b"" if head else body, code, headers, media_type="text/html; charset=utf-8")

    async def stream(key: str, offset: int, length: int) -> AsyncIterator[bytes]:
        response = await asyncio.to_thread(bucket.open, key, offset, length)
        try:
            while chunk := await asyncio.to_thread(response.read, CHUNK):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def serve(request: Request) -> Response:
        try:
            return await serve_object(request)
        except Exception as e:
            if classify(e) is None:
                raise
            log.warning("object store unreachable while serving %s", request.url.path, exc_info=True)
            headers = {
                **SECURITY_HEADERS,
                "Cache-Control": "no-store",
                "Retry-After": str(RETRY_AFTER_SECONDS),
            }
            body = b"" if request.method == "HEAD" else unavailable_page
            return Response(body, 503, headers, media_type="text/html; charset=utf-8")

    def counted(request: Request, status: int, key: str) -> None:
        if counting is not None and counts_as_view(
            request.method, status, key, request.headers.get("user-agent")
        ):
            counting.views.hit(key)

    async def serve_object(request: Request) -> Response:
        head = request.method == "HEAD"
        path: str = request.scope["path"]
        key = key_of(path)
        if key is None:
            return await page(404, "404.html", head)
        info = await stat(key)
        if info is None:
            last = path.rsplit("/", 1)[-1]
            if path != "/" and not path.endswith("/") and "." not in last and await stat(key + "/index.html"):
                return RedirectResponse(path + "/", 301)
            if await stat(WITHDRAWN + key) is not None:
                return await page(410, WITHDRAWN + key, head)
            return await page(404, "404.html", head)
        etag = f'"{info.etag}"'
        headers = {
            **SECURITY_HEADERS,
            "ETag": etag,
            "Cache-Control": cache_control(key),
            "Accept-Ranges": "bytes",
        }
        if info.last_modified is not None:
            headers["Last-Modified"] = info.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if etag_matches(request.headers.get("if-none-match"), etag):
            counted(request, 304, key)
            return Response(status_code=304, headers=headers)
        offset, length, status = 0, info.size, 200
        wanted = _RANGE.match(request.headers.get("range", ""))
        if wanted and info.size > 0 and (wanted.group(1) or wanted.group(2)):
            start, end = wanted.group(1), wanted.group(2)
            if start:
                offset, last_byte = int(start), min(int(end) if end else info.size - 1, info.size - 1)
            else:
                offset, last_byte = max(info.size - int(end), 0), info.size - 1
            if offset >= info.size or last_byte < offset:
                return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{info.size}"})
            length, status = last_byte - offset + 1, 206
            headers["Content-Range"] = f"bytes {offset}-{last_byte}/{info.size}"
        headers["Content-Length"] = str(length)
        counted(request, status, key)
        if head or length == 0:
            return Response(status_code=status, headers=headers, media_type=content_type(info))
        return StreamingResponse(stream(key, offset, length), status, headers, media_type=content_type(info))

    routes = [*health_routes(lambda: readiness, prefix="/_")]
    if counting is None:
        return Starlette(routes=[*routes, Route("/{path:path}", serve, methods=["GET", "HEAD"])])
    read_views = views_endpoint(counting.views, bucket, counting.find, counting.policy)
    routes += [Route(VIEWS_PATH, read_views), Route("/{path:path}", serve, methods=["GET", "HEAD"])]
    return Starlette(routes=routes, lifespan=lambda _: flushing(counting.views, counting.flush_s))


def app_from_settings(settings: WebsiteSettings) -> Starlette:
    media = MediaStore(settings)
    media.ensure_buckets(media.website_bucket)
    site = SiteInfo(
        settings.website_site_name,
        settings.website_site_description,
        str(settings.website_base_url).rstrip("/"),
    )
    counting = Counting(
        PageViews(SiteBucket(media.client, media.bucket)),
        BearerTokens((), TokenStore.at(settings.tokens_database_url)).find,
        Policy(settings.unit_tree()),
        settings.website_views_flush_s,
    )
    return build_app(SiteBucket(media.client, media.website_bucket), render_status(site, 503), counting)


def serve_in_background(settings: WebsiteSettings) -> threading.Thread:
    """Run the server in a daemon thread of the publisher process."""
    config = uvicorn.Config(
        app_from_settings(settings),
        host=settings.website_server_host,
        port=settings.website_server_port,
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="website-server", daemon=True)
    thread.start()
    return thread


def main() -> None:
    settings = WebsiteSettings()
    configure(settings.log_level)
    uvicorn.run(
        app_from_settings(settings),
        host=settings.website_server_host,
        port=settings.website_server_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()

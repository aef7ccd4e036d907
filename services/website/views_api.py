"""``GET /_api/v1/views?path=/<yyyy>/<mm>/<name>.html``: an article page's views, for the listener.

Not public: a service account's bearer token (``loa tokens issue listener --grant viewer:*``, kept
hashed in ``LOA_ACCESS_DATABASE_URL`` as the ingest and the tracker read it) with ``viewer`` (or
any role that may read) on every unit, since a page's count says nothing of its unit here.
Errors are Loa's one JSON envelope (``loa.outages.error_response``); the token is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from loa.access.policy import Action, Policy
from loa.access.principal import Principal
from loa.outages import error_response
from services.website.site.bucket import SiteBucket
from services.website.views import PageViews, key_of_path

log = logging.getLogger(__name__)
PATH = "/_api/v1/views"
FindToken = Callable[[str], Awaitable[Principal | None]]


@dataclass(frozen=True)
class Counting:
    """What the server needs to count views and answer for them."""

    views: PageViews
    find: FindToken
    """A bearer token → its service account (``loa.access.bearer.BearerTokens.find``)."""
    policy: Policy
    flush_s: float


def reader_refusal(policy: Policy, who: Principal) -> str | None:
    """Why ``who`` may not read the counts (it needs READ on every unit); None if it may."""
    if policy.units_for(who, Action.READ) is None:
        return None
    return f"{who.name} may not read page views: that needs viewer (or any reading role) on every unit (*)"


def views_endpoint(
    views: PageViews, site: SiteBucket, find: FindToken, policy: Policy
) -> Callable[[Request], Awaitable[Response]]:
    challenge = {"WWW-Authenticate": "Bearer"}

    async def read_views(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(401, "unauthorized", "a bearer token is required", headers=challenge)
        try:
            who = await find(token.strip())
        except (SQLAlchemyError, OSError) as e:  # the error's text would carry the token's digest
            unreadable = "page views: the token table (LOA_ACCESS_DATABASE_URL) cannot be read: %s"
            log.error(unreadable, type(e).__name__)
            why = "the token table cannot be read; try again shortly"
            return error_response(503, "tokens_unavailable", why, headers={"Retry-After": "60"})
        if who is None:
            return error_response(401, "unauthorized", "unknown, expired or revoked token", headers=challenge)
        refusal = reader_refusal(policy, who)
        if refusal is not None:
            return error_response(403, "forbidden", refusal)
        path = request.query_params.get("path", "")
        key = key_of_path(path)
        if key is None:
            why = "not an article page's path (/<yyyy>/<mm>/<name>.html)"
            return error_response(400, "invalid_path", f"path: {why}", [{"field": "path", "reason": why}])
        total = await asyncio.to_thread(views.total, key)
        if total == 0 and await asyncio.to_thread(site.stat, key) is None:
            return error_response(404, "page_not_found", f"path: no page {path} on the site")
        return JSONResponse({"path": path, "views": total})

    return read_views


@contextlib.asynccontextmanager
async def flushing(views: PageViews, every_s: float) -> AsyncIterator[None]:
    """Write the counts every ``every_s`` while the server runs, and once more when it stops."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await asyncio.to_thread(views.flush)
            except Exception:  # the store is down: the counts stay in memory until it is back
                log.warning("page views: could not write the counts; kept for the next try", exc_info=True)

    task = asyncio.create_task(loop(), name="website-page-views")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await asyncio.to_thread(views.flush)
        except Exception:
            log.warning("page views: the last counts could not be written at stop", exc_info=True)

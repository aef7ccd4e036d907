"""The planning calendar as an iCalendar feed per unit (``GET /api/v1/calendar/{unit}.ics``) and
its keys (``/api/v1/calendar/feeds``: issue, list, revoke; ``manage_tokens``, audited).

The feed opens with a feed key (``?key=``: one unit, read-only, revocable; ``calendar_feeds``) or,
for scripts, any bearer token or dashboard session that may ``read`` the unit. It covers
``FEED_DAYS_BEFORE`` days back to ``FEED_DAYS_AFTER`` ahead, by ``calendar.calendar``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction, utcnow
from loa.events.commands import Unit
from services.tracker import calendar, calendar_feeds, ical
from services.tracker.api import ERRORS, Deps
from services.tracker.auth import check_filter, requires
from services.tracker.i18n import Translator
from services.tracker.queries import today
from services.tracker.reports import Range
from services.tracker.reports_api import units_of

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["calendar"])
Admin = Annotated[Principal, Depends(requires(Action.MANAGE_TOKENS))]
FEED_DAYS_BEFORE = 31
FEED_DAYS_AFTER = 92
"""The feed's span around today: last month and the next quarter (a bounded read per poll)."""
_signed_in = requires(Action.READ)


async def feed_reader(
    request: Request, key: Annotated[str | None, Query(max_length=100, description="a feed key")] = None
) -> Principal:
    """A feed key's reader (one unit, read-only), else whoever the bearer token or session is."""
    if key is None:
        return await _signed_in(request)
    who = await calendar_feeds.reader(request.app.state.tracker.engine, key)
    if who is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked feed key")
    return who


feed_reader.action = Action.READ  # type: ignore[attr-defined]  # read by the permission matrix
Reader = Annotated[Principal, Depends(feed_reader)]
UnitPath = Annotated[str, Path(max_length=200)]


class FeedRequest(BaseModel):
    unit: Unit


class FeedOut(BaseModel):
    id: str
    unit: str
    created_by: str
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None


class FeedIssued(FeedOut):
    url: str = Field(description="the feed's address with its key: shown this once, never stored")


def _out(feed: calendar_feeds.Feed) -> FeedOut:
    return FeedOut(**feed.__dict__)


@router.get(
    "/calendar/{unit}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    summary="One unit's planning calendar as iCalendar (RFC 5545), for staff calendars",
)
async def feed(
    t: Deps, request: Request, who: Reader, unit: Annotated[str, Path(max_length=200)]
) -> Response:
    check_filter(request, who, Action.READ, unit)
    now = utcnow()
    span = Range(today() - timedelta(days=FEED_DAYS_BEFORE), today() + timedelta(days=FEED_DAYS_AFTER))
    found = await calendar.calendar(t.engine, span, units_of(request, who, unit))
    body = ical.render(found, unit, str(request.base_url), now, Translator("vi"))
    return Response(
        body.encode(),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )


@router.post("/calendar/feeds", status_code=201, response_model=FeedIssued, summary="Issue a unit's feed key")
async def issue(t: Deps, request: Request, who: Admin, body: FeedRequest) -> FeedIssued:
    found, key = await calendar_feeds.issue(t.engine, body.unit, who.name, utcnow())
    await record(
        t.audit,
        actor(who, request),
        AuditAction.TOKEN_ISSUED,
        unit=body.unit,
        detail=f"calendar feed {found.id}",
    )
    url = f"/api/v1/calendar/{quote(body.unit, safe='')}.ics?key={key}"
    return FeedIssued(**_out(found).model_dump(), url=url)


@router.get("/calendar/feeds", response_model=list[FeedOut], summary="The feeds issued (never their keys)")
async def list_feeds(t: Deps, _: Admin) -> list[FeedOut]:
    return [_out(f) for f in await calendar_feeds.list_feeds(t.engine)]


@router.post("/calendar/feeds/{feed_id}/revoke", response_model=FeedOut, summary="Revoke a feed key")
async def revoke(
    t: Deps, request: Request, who: Admin, feed_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
) -> FeedOut:
    found = await calendar_feeds.revoke(t.engine, feed_id, who.name, utcnow())
    if found is None:
        raise HTTPException(404, f"no calendar feed {feed_id!r} to revoke")
    await record(
        t.audit,
        actor(who, request),
        AuditAction.TOKEN_REVOKED,
        unit=found.unit,
        detail=f"calendar feed {feed_id}",
    )
    return _out(found)

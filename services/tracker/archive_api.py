"""The archive of record in the dashboard: ``/archive`` (search) and
``GET /api/v1/archive/export`` (a signed ZIP of one content, or of the contents a period touched).

Search reads the tracker's own view (``queries.list_contents``: title words folded, so "dinh chinh"
finds "Đính chính", unit, channel, approval period); the records themselves are in the archive
bucket (``loa.archive``), which the tracker reads with its own read-only MinIO user. An export needs
``export`` on the content's unit (a period: on the unit asked, and holds only the units one may
read), is audited as ``export`` and is signed with ``LOA_ARCHIVE_SIGNING_KEY``.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.archive import signing
from loa.archive.bundle import build_zip, collect
from loa.audit import record
from loa.events import AuditAction
from services.tracker import queries
from services.tracker.api import ERRORS, ContentIdPath, Deps, content_or_404
from services.tracker.auth import check_filter, requires, visible_units
from services.tracker.context import Tracker
from services.tracker.queries import ContentFilter, day_start
from services.tracker.reports_api import day_param
from services.tracker.tables import contents
from services.tracker.web import render_page

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["archive"])
pages = APIRouter(include_in_schema=False)
Exporter = Annotated[Principal, Depends(requires(Action.EXPORT))]
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
PERIOD_MAX_DAYS = 31
"""The longest period one export covers (a month of an office's contents fits one ZIP)."""
ZIP = "application/zip"


def _signed_zip(t: Tracker, ids: list[str], scope: dict[str, object]) -> bytes:
    try:
        key = signing.private_key(t.settings.archive_signing_key.get_secret_value())
    except ValueError as e:
        raise HTTPException(503, f"exports are not signed here: {e}") from None
    store = t.settings.archive_store()
    return build_zip(collect(store, ids), scope, key)


async def _period_ids(t: Tracker, request: Request, who: Principal, first: date, last: date) -> list[str]:
    """The contents archived from ``first`` to ``last`` that ``who`` may read (the tracker's view
    says each one's unit; one it does not know is left out)."""
    archived = await asyncio.to_thread(t.settings.archive_store().contents_between, first, last)
    units = visible_units(request, who)
    async with t.engine.connect() as conn:
        rows = (
            await conn.execute(select(contents.c.id, contents.c.unit).where(contents.c.id.in_(archived)))
        ).all()
    return sorted(r.id for r in rows if units is None or r.unit in units)


@router.get(
    "/archive/export",
    responses={200: {"content": {ZIP: {}}}},
    summary="A signed ZIP of the archive: one content's records, payloads and answers, or a period's",
)
async def export(
    t: Deps,
    who: Exporter,
    request: Request,
    content_id: Annotated[ContentIdPath | None, Query()] = None,
    start: Annotated[str | None, Query(alias="from", max_length=10, description="YYYY-MM-DD (UTC)")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10, description="YYYY-MM-DD, included")] = None,
) -> Response:
    scope: dict[str, object]
    if content_id:
        detail = await content_or_404(t, request, who, Action.EXPORT, content_id)
        ids, unit, name = [content_id], detail.unit, content_id
        scope, what = {"content_ids": ids}, f"content_ids={content_id}"
    elif start:
        first, last = day_param(start, "from"), day_param(end or start, "to")
        if not first <= last <= first + timedelta(days=PERIOD_MAX_DAYS - 1):
            raise HTTPException(
                422, f"to: from {first} to {last} is not a period of 1 to {PERIOD_MAX_DAYS} days"
            )
        check_filter(request, who, Action.EXPORT, None)
        ids, unit, name = await _period_ids(t, request, who, first, last), None, f"{first}_{last}"
        scope = {"from": first.isoformat(), "to": last.isoformat(), "content_ids": ids}
        what = f"from={first} to={last} contents={len(ids)}"
    else:
        raise HTTPException(422, "content_id or from: give one content, or a period")
    data = await asyncio.to_thread(_signed_zip, t, ids, scope)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.EXPORT,
        content_id=content_id,
        unit=unit,
        detail=f"archive {what}",
    )
    return Response(
        data,
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="loa-archive-{name}.zip"'},
    )


@pages.get("/archive", response_class=HTMLResponse)
async def archive_page(
    request: Request,
    who: Viewer,
    q: Annotated[str, Query(max_length=200)] = "",
    unit: Annotated[str, Query(max_length=200)] = "",
    channel: Annotated[str, Query(max_length=32)] = "",
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """ "Lưu trữ": find contents by title words (without diacritics too), unit, channel, period."""
    t: Tracker = request.app.state.tracker
    first = day_param(start, "from") if start else None
    last = day_param(end, "to") if end else None
    f = ContentFilter(
        q=q or None,
        unit=unit or None,
        channel=channel or None,
        since=day_start(first) if first else None,
        until=day_start(last + timedelta(days=1)) if last else None,
        units=visible_units(request, who),
    )
    found = await queries.list_contents(t.engine, f, 1, 100)
    visible = visible_units(request, who)
    known = [u for u in await queries.units(t.engine) if visible is None or u in visible]
    return render_page(
        request,
        "archive.html",
        who,
        found=found,
        q=q,
        unit=unit,
        units=known,
        channel=channel,
        channels=sorted(t.settings.channel_names),
        start=start,
        end=end,
        period={"from": start, "to": end or start} if start else None,
    )

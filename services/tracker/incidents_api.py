"""``/api/v1/incidents``: communication incidents ("Sự cố truyền thông"), their notes, their close
and the after-action report. Opening, noting and closing need ``manage_incident`` on every unit of
the incident, reading needs ``read`` on every one; each act is audited."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction, utcnow
from services.tracker import incident_chart, incident_report, incidents
from services.tracker.api import ERRORS, Deps
from services.tracker.auth import check_unit, requires, visible_units
from services.tracker.context import Tracker
from services.tracker.i18n import Translator
from services.tracker.incident_timeline import IncidentDetail, gather
from services.tracker.incidents import CloseRequest, IncidentOut, IncidentRequest, NoteOut, NoteRequest
from services.tracker.views import ErrorResponse

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["incidents"])
Viewer = Annotated[Principal, Depends(requires(Action.READ))]
Manager = Annotated[Principal, Depends(requires(Action.MANAGE_INCIDENT))]
IncidentId = Annotated[int, Path(ge=1, le=2**62)]
REPORT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
}


def check_units(request: Request, who: Principal, action: Action, units: list[str]) -> None:
    """403 unless ``who`` may ``action`` on every unit of an incident."""
    for unit in units:
        check_unit(request, who, action, unit)


def covered_units(request: Request, incident: IncidentOut) -> frozenset[str]:
    """The incident's units and every unit below them (``loa.access.units``)."""
    tree = request.app.state.auth.policy.units
    return frozenset().union(*(tree.subtree(u) for u in incident.units))


async def incident_or_404(
    t: Tracker, request: Request, who: Principal, action: Action, incident_id: int
) -> IncidentOut:
    found = await incidents.get_incident(t.engine, incident_id)
    if found is None:
        raise HTTPException(404, f"no incident {incident_id}")
    check_units(request, who, action, found.units)
    return found


async def detail(t: Tracker, request: Request, incident: IncidentOut) -> IncidentDetail:
    return await gather(t.engine, incident, covered_units(request, incident))


def _open_or_409(incident: IncidentOut) -> None:
    if incident.closed_at is not None:
        raise HTTPException(409, f"incident {incident.id} was closed at {incident.closed_at.isoformat()}")


def _audited_unit(incident: IncidentOut | IncidentRequest) -> str | None:
    """The audit entry's one unit: the incident's, when it has one (the detail lists them all)."""
    return incident.units[0] if len(incident.units) == 1 else None


@router.get("/incidents", response_model=list[IncidentOut], summary="Incidents: open ones, then the newest")
async def list_incidents(t: Deps, request: Request, who: Viewer) -> list[IncidentOut]:
    return await incidents.list_incidents(t.engine, visible_units(request, who))


@router.post("/incidents", status_code=201, response_model=IncidentOut, summary="Open an incident")
async def open_incident(t: Deps, request: Request, who: Manager, body: IncidentRequest) -> IncidentOut:
    """While it is open, the holds, corrections, urgent posts and retractions of its units (children
    included) are grouped into it (docs/architecture.md, "Incidents")."""
    check_units(request, who, Action.MANAGE_INCIDENT, body.units)
    incident_id = await incidents.open_incident(t.engine, body, who.name, utcnow())
    await record(
        t.audit,
        actor(who, request),
        AuditAction.INCIDENT_OPEN,
        unit=_audited_unit(body),
        detail=f"incident {incident_id} [{body.severity.value}] {body.title} · {', '.join(body.units)}",
    )
    found = await incidents.get_incident(t.engine, incident_id)
    assert found is not None
    return found


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, summary="An incident and its timeline")
async def get_incident(t: Deps, request: Request, who: Viewer, incident_id: IncidentId) -> IncidentDetail:
    """Every step across channels in time order (with the platforms' answers), and how long each took."""
    return await detail(t, request, await incident_or_404(t, request, who, Action.READ, incident_id))


@router.post("/incidents/{incident_id}/notes", status_code=201, response_model=NoteOut, summary="Add a note")
async def add_note(
    t: Deps, request: Request, who: Manager, incident_id: IncidentId, body: NoteRequest
) -> NoteOut:
    incident = await incident_or_404(t, request, who, Action.MANAGE_INCIDENT, incident_id)
    _open_or_409(incident)
    at = utcnow()
    note_id = await incidents.add_note(t.engine, incident_id, body.text, who.name, at)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.INCIDENT_NOTE,
        reason=body.text,
        unit=_audited_unit(incident),
        detail=f"incident {incident_id}: note {note_id}",
    )
    return NoteOut(id=note_id, at=at, author=who.name, text=body.text)


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut, summary="Close an incident")
async def close_incident(
    t: Deps, request: Request, who: Manager, incident_id: IncidentId, body: CloseRequest | None = None
) -> IncidentOut:
    """Its after-action report is then at ``GET /incidents/{id}/report``."""
    incident = await incident_or_404(t, request, who, Action.MANAGE_INCIDENT, incident_id)
    note = body.note.strip() if body else ""
    _open_or_409(incident)
    if not await incidents.close_incident(t.engine, incident_id, who.name, note, utcnow()):
        raise HTTPException(409, f"incident {incident_id} was closed meanwhile")
    await record(
        t.audit,
        actor(who, request),
        AuditAction.INCIDENT_CLOSE,
        reason=note,
        unit=_audited_unit(incident),
        detail=f"incident {incident_id}: {incident.title}",
    )
    found = await incidents.get_incident(t.engine, incident_id)
    assert found is not None
    return found


@router.get(
    "/incidents/{incident_id}/report",
    responses={
        200: {"content": {"text/markdown": {}, "text/csv": {}, "image/png": {}}},
        409: {"model": ErrorResponse, "description": "the incident is still open"},
    },
    response_class=Response,
    summary="The after-action report of a closed incident: Markdown, CSV or a PNG timeline chart",
)
async def report(
    t: Deps,
    request: Request,
    who: Viewer,
    incident_id: IncidentId,
    format: Annotated[Literal["md", "csv", "png"], Query()] = "md",
    lang: Annotated[Literal["vi", "en"], Query(description="the report's language")] = "vi",
) -> Response:
    incident = await incident_or_404(t, request, who, Action.READ, incident_id)
    if incident.closed_at is None:
        raise HTTPException(409, f"incident {incident_id} is still open: its report comes with its close")
    full, words = await detail(t, request, incident), Translator(lang)
    body: str | bytes
    if format == "md":
        body = incident_report.markdown(full, words)
    elif format == "csv":
        body = incident_report.csv_text(full, words)
    else:
        body = incident_chart.png(full, words)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.EXPORT,
        unit=_audited_unit(incident),
        detail=f"incident {incident_id} report {format}",
    )
    return Response(
        body,
        media_type=REPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="su-co-{incident_id}.{format}"'},
    )

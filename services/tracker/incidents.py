"""Communication incidents ("Sự cố truyền thông") as the tracker keeps them: opened, noted, closed.

What an incident groups (holds, corrections, retractions, urgent posts) is not recorded here: it is
derived by unit and time window from what the tracker already records (``incident_timeline``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.events.commands import Unit
from loa.events.constraints import Text
from loa.events.content import PlainText
from services.tracker.tables import incident_notes, incidents

MAX_UNITS = 20
LISTED = 100
SCANNED = 1000
NoteText = Annotated[PlainText, Text(min_length=1, max_length=2000)]
"""As long as an audit entry's reason, where a note is also recorded."""


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


def _said(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


class IncidentRequest(BaseModel):
    """Open an incident of one or more units (their children included)."""

    title: Annotated[PlainText, Text(min_length=1, max_length=300)]
    severity: Severity
    units: list[Unit] = Field(min_length=1, max_length=MAX_UNITS)

    _title = field_validator("title")(_said)

    @field_validator("units")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        units = list(dict.fromkeys(u.strip() for u in value))
        if "" in units:
            raise ValueError("a unit must not be blank")
        return units


class NoteRequest(BaseModel):
    text: NoteText

    _text = field_validator("text")(_said)


class CloseRequest(BaseModel):
    note: Annotated[PlainText, Text(max_length=2000)] = ""


class NoteOut(BaseModel):
    id: int
    at: datetime
    author: str
    text: str


class IncidentOut(BaseModel):
    id: int
    title: str
    severity: Severity
    units: list[str]
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None
    notes: list[NoteOut] = []


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def open_incident(engine: AsyncEngine, body: IncidentRequest, by: str, at: datetime) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            incidents.insert().values(
                title=body.title, severity=body.severity.value, units=body.units, opened_by=by, opened_at=at
            )
        )
    return _new_id(result)


async def add_note(engine: AsyncEngine, incident_id: int, text: str, by: str, at: datetime) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            incident_notes.insert().values(incident_id=incident_id, at=at, author=by, text=text)
        )
    return _new_id(result)


async def close_incident(engine: AsyncEngine, incident_id: int, by: str, note: str, at: datetime) -> bool:
    """Close an open incident; False if it was closed already (or never was)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.closed_at.is_(None))
            .values(closed_at=at, closed_by=by, close_note=note or None)
        )
    return bool(result.rowcount == 1)


async def get_incident(engine: AsyncEngine, incident_id: int) -> IncidentOut | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(incidents).where(incidents.c.id == incident_id))).first()
        if row is None:
            return None
        notes = await conn.execute(
            select(incident_notes)
            .where(incident_notes.c.incident_id == incident_id)
            .order_by(incident_notes.c.at, incident_notes.c.id)
        )
        found = [NoteOut.model_validate(n, from_attributes=True) for n in notes]
    return IncidentOut.model_validate({**row._mapping, "notes": found})


async def list_incidents(engine: AsyncEngine, visible: frozenset[str] | None) -> list[IncidentOut]:
    """Open ones first, then the newest, up to ``LISTED``; only those whose every unit is in
    ``visible`` (None: all), among the newest ``SCANNED``."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(incidents)
            .order_by(incidents.c.closed_at.is_not(None), incidents.c.opened_at.desc())
            .limit(SCANNED)
        )
        found = [IncidentOut.model_validate(dict(r._mapping)) for r in rows]
    return [i for i in found if visible is None or set(i.units) <= visible][:LISTED]

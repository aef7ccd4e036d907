"""The tracker's side of the audit log: it alone writes the chain (``loa.audit.chain``), with its
own acts at once and the ingest's from ``loa.audit.v1``; and it reads it for the audit page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.audit import chain
from loa.events import AuditAction, AuditOutcome
from services.tracker.tables import audit_log
from services.tracker.views import Page

PRODUCER = "loa-tracker"


class AuditChain(chain.ChainSink):
    """The sink of ``loa.audit.record`` in the tracker: the entry is chained before the call returns."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, PRODUCER)


class AuditRow(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    actor_kind: str
    address: str
    action: AuditAction
    outcome: AuditOutcome
    reason: str
    content_id: str | None
    version: int | None
    delivery_id: str | None
    account: str | None
    unit: str | None
    detail: str
    source: str
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    unit: str | None = None
    action: AuditAction | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.actor:
            where.append(audit_log.c.actor == self.actor)
        if self.unit:
            where.append(audit_log.c.unit == self.unit)
        if self.action:
            where.append(audit_log.c.action == self.action.value)
        if self.since:
            where.append(audit_log.c.occurred_at >= self.since)
        if self.until:
            where.append(audit_log.c.occurred_at < self.until)
        return where


def export_detail(what: str, filters: object) -> str:
    """What an export held, for its audit entry: the list and the filters given (a dataclass)."""
    given = [f"{k}={v}" for k, v in vars(filters).items() if v]
    return " ".join([what, *given])


async def list_entries(
    engine: AsyncEngine, f: AuditFilter, page: int = 1, page_size: int = 50
) -> Page[AuditRow]:
    """Newest first."""
    where = f.where()
    columns = [audit_log.c[name] for name in AuditRow.model_fields]
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(audit_log).where(*where))).scalar_one()
        rows = await conn.execute(
            select(*columns)
            .where(*where)
            .order_by(audit_log.c.seq.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        items = [AuditRow.model_validate(dict(r._mapping)) for r in rows]
    return Page[AuditRow](items=items, total=total, page=page, page_size=page_size)


async def people(engine: AsyncEngine) -> list[str]:
    """Every actor the log names, for the page's filter."""
    async with engine.connect() as conn:
        return list(
            (await conn.execute(select(audit_log.c.actor).distinct().order_by(audit_log.c.actor))).scalars()
        )

"""Engagement in the tracker: the listener's samples kept as a time series, and the latest figures.

Each ``engagement.observed`` event becomes one row per figure in ``engagement_samples`` with the
content's unit (so reports per unit and month read one index). A sample consumed twice (a rewind,
the listener re-sending after a crash) is kept once: the rows are unique on delivery, metric and
time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.db import upsert
from loa.events import EngagementObserved
from services.tracker.tables import contents, engagement_samples


async def record_samples(engine: AsyncEngine, events: Sequence[EngagementObserved]) -> int:
    """Store the figures of ``events``; returns how many rows were offered (repeats are skipped)."""
    rows = [
        {
            "content_id": e.payload.content_id,
            "channel": e.payload.channel,
            "account": e.payload.account,
            "external_id": e.payload.external_id,
            "metric": str(metric),
            "value": value,
            "observed_at": e.payload.observed_at,
        }
        for e in events
        for metric, value in e.payload.metrics.items()
    ]
    if not rows:
        return 0
    async with engine.begin() as conn:
        ids = sorted({e.payload.content_id for e in events})
        units = dict(
            (await conn.execute(select(contents.c.id, contents.c.unit).where(contents.c.id.in_(ids)))).all()
        )
        for row in rows:
            row["unit"] = units.get(row["content_id"])
        await conn.execute(upsert(conn, engagement_samples).values(rows).on_conflict_do_nothing())
    return len(rows)


class Figure(BaseModel):
    metric: str
    value: int
    observed_at: datetime


class DeliveryEngagement(BaseModel):
    """The latest figures of one delivery (content on a channel account), as the listener last read them."""

    channel: str
    account: str
    external_id: str
    figures: list[Figure]


def newest(*where: ColumnElement[bool]) -> Select[Any]:
    """The newest sample of each figure of each delivery, among the samples ``where`` selects: the
    figures as the listener last read them (the content page, the reports)."""
    s = engagement_samples.c
    at = (
        select(s.content_id, s.channel, s.account, s.metric, func.max(s.observed_at).label("at"))
        .where(*where)
        .group_by(s.content_id, s.channel, s.account, s.metric)
        .subquery()
    )
    return (
        select(s.content_id, s.channel, s.account, s.external_id, s.metric, s.value, s.observed_at)
        .join(
            at,
            (s.content_id == at.c.content_id)
            & (s.channel == at.c.channel)
            & (s.account == at.c.account)
            & (s.metric == at.c.metric)
            & (s.observed_at == at.c.at),
        )
        .where(*where)
    )


async def latest(engine: AsyncEngine, content_id: str) -> list[DeliveryEngagement]:
    """Per delivery of ``content_id``, the newest value of each metric."""
    s = engagement_samples.c
    stmt = newest(s.content_id == content_id).order_by(s.channel, s.account, s.metric)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    out: dict[tuple[str, str], DeliveryEngagement] = {}
    for r in rows:
        entry = out.setdefault(
            (r.channel, r.account),
            DeliveryEngagement(channel=r.channel, account=r.account, external_id=r.external_id, figures=[]),
        )
        entry.figures.append(Figure(metric=r.metric, value=r.value, observed_at=r.observed_at))
    return list(out.values())

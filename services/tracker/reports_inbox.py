"""The leadership report's figures from the comment inbox and the misinformation watch, per unit and
channel over the report's range (``[since, until)``, the office's midnights: ``reports.Range``):

- ``comments``: citizens' comments the listener brought in that were written in the range (their
  ``created_at`` on the platform), and how many of them are answered so far (``answered_at`` set:
  moved to answered or hidden, ``comments.ANSWERED``, by whatever moved them);
- ``comment_answer_median_s``: the median time from a comment's writing to its first answer. It
  includes the listener's polling delay: the office cannot answer what it has not read yet;
- ``alerts``: what the watch raised in the range (``watch_alerts.raised_at``), and how many are
  answered: an alert is answered by the first comment of its scope answered at or after it was
  raised (a phrase or a post's spike: the comments of that post on that channel; a unit's spike:
  every comment of the unit), its response time the time between the two.

A median is ``None`` where nothing was answered: never a made-up zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import Label, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tracker.queries import UNKNOWN_UNIT
from services.tracker.tables import post_comments, watch_alerts

UNIT_SPIKE = "unit_volume"
"""The watch's alert kind whose scope is a whole unit (``comments._record_one``)."""


@dataclass
class Answers:
    """What came in, how many are answered, and each answer's delay in seconds."""

    received: int = 0
    delays_s: list[float] = field(default_factory=list)

    def add(self, since: datetime, answered_at: datetime | None) -> None:
        self.received += 1
        if answered_at is not None:
            # a platform's clock a little ahead of ours is not a negative response time
            self.delays_s.append(max(0.0, (answered_at - since).total_seconds()))

    @property
    def answered(self) -> int:
        return len(self.delays_s)

    @property
    def median_s(self) -> float | None:
        return round(median(self.delays_s), 1) if self.delays_s else None


@dataclass
class Listening:
    comments: Answers = field(default_factory=Answers)
    alerts: Answers = field(default_factory=Answers)


def _first_answer_of_alert() -> Label[datetime]:
    """When the first comment of an alert's scope was answered at or after the alert was raised."""
    answer = post_comments.alias("answer")
    a = watch_alerts.c
    scope = or_(
        and_(a.kind == UNIT_SPIKE, answer.c.unit == a.unit),
        and_(a.kind != UNIT_SPIKE, answer.c.content_id == a.content_id, answer.c.channel == a.channel),
    )
    return (
        select(func.min(answer.c.answered_at))
        .where(scope, answer.c.answered_at >= a.raised_at)
        .scalar_subquery()
        .label("answered_at")
    )


async def listening(
    conn: AsyncConnection, since: datetime, until: datetime, units: frozenset[str] | None
) -> dict[tuple[str, str], Listening]:
    """The comments written and the alerts raised in ``[since, until)`` within ``units`` (None: all),
    by unit and channel."""
    found: dict[tuple[str, str], Listening] = defaultdict(Listening)
    c = post_comments.c
    comments = select(c.unit, c.channel, c.created_at, c.answered_at).where(
        c.created_at >= since, c.created_at < until
    )
    a = watch_alerts.c
    alerts = select(a.unit, a.channel, a.raised_at, _first_answer_of_alert()).where(
        a.raised_at >= since, a.raised_at < until
    )
    if units is not None:
        comments = comments.where(c.unit.in_(sorted(units)))
        alerts = alerts.where(a.unit.in_(sorted(units)))
    async for r in await conn.stream(comments):
        found[(r.unit or UNKNOWN_UNIT, r.channel)].comments.add(r.created_at, r.answered_at)
    async for r in await conn.stream(alerts):
        found[(r.unit or UNKNOWN_UNIT, r.channel)].alerts.add(r.raised_at, r.answered_at)
    return found

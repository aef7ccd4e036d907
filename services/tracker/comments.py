"""The comment inbox in the tracker: each comment the listener lists is kept once, watched, and marked.

``record_comments`` stores the comments of ``comments.observed`` events (unique on channel, account
and the platform's comment id, with the content's unit), runs the watch over the new ones (a phrase
of the unit's watchlist, the volume rule on their post) and, in the same transaction, writes what
the watch raised to ``watch_alerts`` (the dashboard) and to the alert outbox (the signed webhooks of
``alerts.py``). An alert is one per post, rule and hour (a burst of thirty "tin giả" is one alert
naming how many), so a rewind or a re-read raises nothing twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel
from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.db import upsert
from loa.events import CommentsObserved, utcnow
from services.tracker.settings import AlertHook, TrackerSettings
from services.tracker.tables import alerts_outbox, contents, post_comments, watch_alerts, watchlists
from services.tracker.watch import DEFAULT_PHRASES, VolumeRule, first_match

WATCH_NAMESPACE = uuid.UUID("0b7f3c1e-5a4d-4f0e-8c9b-18d1a7e5c0de")


def watch_rule(settings: TrackerSettings) -> VolumeRule:
    return VolumeRule(
        settings.tracker_watch_spike_factor,
        settings.tracker_watch_spike_min,
        settings.tracker_watch_baseline_h,
    )


class CommentState(StrEnum):
    NEW = "new"
    SEEN = "seen"
    ANSWERED = "answered"
    HIDDEN = "hidden"
    ESCALATED = "escalated"


ANSWERED = frozenset({CommentState.ANSWERED, CommentState.HIDDEN})
"""The states that count as answered in the leadership report, whatever moved the comment there (an
operator's mark, a reply or a hide through the publisher): ``post_comments.answered_at`` keeps when
the comment first reached one of them."""


@dataclass(frozen=True)
class Raised:
    kind: str
    content_id: str
    channel: str
    account: str
    unit: str | None
    detail: str
    count: int
    phrase: str | None
    comment_id: int | None
    hour: str


async def phrases_of(conn: AsyncConnection, units: Sequence[str | None]) -> dict[str | None, tuple[str, ...]]:
    """Each unit's watchlist (the default where the unit has none)."""
    known = {u for u in units if u}
    rows = (await conn.execute(select(watchlists).where(watchlists.c.unit.in_(known)))).all() if known else []
    stored = {r.unit: tuple(json.loads(r.phrases)) for r in rows}
    return {u: stored.get(u, DEFAULT_PHRASES) if u else DEFAULT_PHRASES for u in units}


async def record_comments(
    engine: AsyncEngine, events: Sequence[CommentsObserved], hooks: Sequence[AlertHook], rule: VolumeRule
) -> list[Raised]:
    """Store the comments of ``events``; returns what the rules found over the new ones (an alert
    already raised this hour is not written or sent again)."""
    if not any(e.payload.comments for e in events):
        return []
    raised: list[Raised] = []
    async with engine.begin() as conn:
        ids = sorted({e.payload.content_id for e in events})
        units = dict(
            (await conn.execute(select(contents.c.id, contents.c.unit).where(contents.c.id.in_(ids)))).all()
        )
        watched = await phrases_of(conn, list({units.get(i) for i in ids}))
        for event in events:
            raised += await _record_one(
                conn, event.payload, units.get(event.payload.content_id), watched, rule
            )
        await _raise(conn, raised, hooks)
    return raised


async def _record_one(
    conn: AsyncConnection,
    post: Any,
    unit: str | None,
    watched: dict[str | None, tuple[str, ...]],
    rule: VolumeRule,
) -> list[Raised]:
    key = and_(post_comments.c.channel == post.channel, post_comments.c.account == post.account)
    listed = {c.external_id: c for c in post.comments}
    known = set(
        (
            await conn.execute(
                select(post_comments.c.external_id).where(key, post_comments.c.external_id.in_(listed))
            )
        ).scalars()
    )
    # The office's own replies (comment_actions) come back in later listings: not a citizen's comment.
    ours = set(
        (
            await conn.execute(
                select(post_comments.c.reply_id).where(key, post_comments.c.reply_id.in_(listed))
            )
        ).scalars()
    )
    fresh = [c for i, c in listed.items() if i not in known and i not in ours]
    if not fresh:
        return []
    rows = [
        {
            "channel": post.channel,
            "account": post.account,
            "external_id": c.external_id,
            "content_id": post.content_id,
            "post_external_id": post.external_id,
            "unit": unit,
            "author": c.author,
            "text": c.text,
            "created_at": c.created_at,
            "observed_at": post.observed_at,
            "state": CommentState.NEW.value,
            "matched": first_match(c.text, watched[unit]),
        }
        for c in fresh
    ]
    await conn.execute(upsert(conn, post_comments).values(rows).on_conflict_do_nothing())
    hour = post.observed_at.strftime("%Y-%m-%dT%H")
    base = {"content_id": post.content_id, "channel": post.channel, "account": post.account, "unit": unit}
    out: list[Raised] = []
    by_phrase: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["matched"]:
            by_phrase.setdefault(str(row["matched"]), []).append(row)
    for phrase, matched in by_phrase.items():
        first_id = await _id_of(conn, post.channel, post.account, str(matched[0]["external_id"]))
        detail = f'{len(matched)} bình luận mới chứa "{phrase}"'
        out.append(Raised("phrase", **base, detail=detail, count=len(matched), phrase=phrase,
                          comment_id=first_id, hour=hour))  # fmt: skip
    created = (
        await conn.execute(
            select(post_comments.c.created_at).where(
                key, post_comments.c.post_external_id == post.external_id
            )
        )
    ).scalars()
    spikes = [("volume", rule.spike(list(created), post.observed_at), "")]
    if unit is not None:
        # the unit's comments on all its posts, over the rule's whole window only
        since = post.observed_at - timedelta(hours=rule.baseline_h + 2)
        everywhere = await conn.execute(
            select(post_comments.c.created_at).where(
                post_comments.c.unit == unit, post_comments.c.created_at >= since
            )
        )
        spikes.append(("unit_volume", rule.spike(list(everywhere.scalars()), post.observed_at), f"{unit}: "))
    for kind, spike, where in spikes:
        if spike is not None:
            recent, baseline = spike
            times = recent / max(baseline, 0.1)
            usual = f"gấp {times:.1f} lần mức thường ({baseline:.1f}/giờ)"
            detail = f"{where}{recent} bình luận trong giờ qua, {usual}"
            out.append(
                Raised(kind, **base, detail=detail, count=recent, phrase=None, comment_id=None, hour=hour)
            )
    return out


async def _id_of(conn: AsyncConnection, channel: str, account: str, external_id: str) -> int | None:
    found = await conn.execute(
        select(post_comments.c.id).where(
            post_comments.c.channel == channel,
            post_comments.c.account == account,
            post_comments.c.external_id == external_id,
        )
    )
    return found.scalar()


def links(r: Raised) -> dict[str, str]:
    """Where the dashboard takes an operator: the comments, the content (its correction), incidents."""
    inbox = {"content": r.content_id, "channel": r.channel, **({"keyword": r.phrase} if r.phrase else {})}
    return {
        "comments": f"/inbox?{urlencode(inbox)}",
        "content": f"/contents/{r.content_id}",
        "incidents": "/incidents",
    }


async def _raise(conn: AsyncConnection, raised: Sequence[Raised], hooks: Sequence[AlertHook]) -> None:
    now = utcnow()
    for r in raised:
        # a unit's spike is one alert per unit and hour, whichever post's comments showed it
        what = (
            f"{r.kind}:{r.unit}:{r.hour}"
            if r.kind == "unit_volume"
            else f"{r.kind}:{r.channel}:{r.account}:{r.content_id}:{r.phrase}:{r.hour}"
        )
        alert_id = str(uuid.uuid5(WATCH_NAMESPACE, what))
        row = {
            "id": alert_id,
            "kind": r.kind,
            "unit": r.unit,
            "content_id": r.content_id,
            "channel": r.channel,
            "detail": r.detail,
            "comment_id": r.comment_id,
            "raised_at": now,
        }
        inserted = await conn.execute(upsert(conn, watch_alerts).values(row).on_conflict_do_nothing())
        if inserted.rowcount == 0:
            continue  # raised already this hour for this post
        for hook in hooks:
            if not (hook.watch and hook.covers(r.unit)):
                continue
            event_id = str(uuid.uuid5(WATCH_NAMESPACE, f"{alert_id}:{hook.name}"))
            payload = {
                "event_id": event_id,
                "type": "watch.alert",
                "kind": r.kind,
                "occurred_at": now.isoformat(),
                "content_id": r.content_id,
                "channel": r.channel,
                "account": r.account,
                "unit": r.unit,
                "detail": r.detail,
                "count": r.count,
                "phrase": r.phrase,
                "links": links(r),
            }
            await conn.execute(
                upsert(conn, alerts_outbox)
                .values(
                    event_id=event_id,
                    hook=hook.name,
                    payload=json.dumps(payload, ensure_ascii=False),
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                    given_up=False,
                )
                .on_conflict_do_nothing()
            )


class CommentOut(BaseModel):
    id: int
    channel: str
    account: str
    external_id: str
    content_id: str
    unit: str | None
    author: str
    text: str
    created_at: datetime
    state: CommentState
    note: str | None
    state_by: str | None
    state_at: datetime | None
    matched: str | None
    answered_at: datetime | None = None
    action_kind: str | None = None
    """The latest reply or moderation sent through the publisher (``comment_actions``)."""
    action_state: str | None = None
    """``sending`` until the publisher's outcome, then ``done`` or ``failed``."""
    action_error: str | None = None
    reply_text: str | None = None
    """The office's reply as the platform took it."""


async def list_comments(
    engine: AsyncEngine,
    units: frozenset[str] | None,
    *,
    unit: str | None = None,
    channel: str | None = None,
    content_id: str | None = None,
    keyword: str | None = None,
    state: CommentState | None = None,
    limit: int = 200,
) -> list[CommentOut]:
    """Newest first, within ``units`` (None: every unit); ``keyword`` matches as the watch does."""
    query = select(post_comments).order_by(post_comments.c.created_at.desc(), post_comments.c.id.desc())
    if units is not None:
        query = query.where(post_comments.c.unit.in_(units))
    for column, value in (
        (post_comments.c.unit, unit),
        (post_comments.c.channel, channel),
        (post_comments.c.content_id, content_id),
        (post_comments.c.state, state.value if state else None),
    ):
        if value is not None:
            query = query.where(column == value)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    found = [CommentOut.model_validate(dict(r)) for r in rows]
    if keyword:
        found = [c for c in found if first_match(c.text, [keyword])]
    return found[:limit]


async def get_comment(engine: AsyncEngine, comment_id: int) -> CommentOut | None:
    async with engine.connect() as conn:
        row = (
            (await conn.execute(select(post_comments).where(post_comments.c.id == comment_id)))
            .mappings()
            .first()
        )
    return CommentOut.model_validate(dict(row)) if row else None


def state_change(state: CommentState, note: str | None, by: str) -> dict[str, Any]:
    """The columns a move to ``state`` writes: every path that changes a comment's state uses it, so
    ``answered_at`` is the first move into ``ANSWERED`` (a later mark, even answered again, keeps it)."""
    now = utcnow()
    values: dict[str, Any] = {"state": state.value, "note": note, "state_by": by, "state_at": now}
    if state in ANSWERED:
        first = post_comments.c.answered_at
        values["answered_at"] = func.coalesce(first, literal(now, first.type))
    return values


async def mark(engine: AsyncEngine, comment_id: int, state: CommentState, note: str | None, by: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(post_comments)
            .where(post_comments.c.id == comment_id)
            .values(state_change(state, note, by))
        )


class WatchAlertOut(BaseModel):
    id: str
    kind: str
    unit: str | None
    content_id: str
    channel: str
    detail: str
    raised_at: datetime


async def recent_alerts(
    engine: AsyncEngine, units: frozenset[str] | None, limit: int = 50
) -> list[WatchAlertOut]:
    query = select(watch_alerts).order_by(watch_alerts.c.raised_at.desc()).limit(limit)
    if units is not None:
        query = query.where(watch_alerts.c.unit.in_(units))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [WatchAlertOut.model_validate(dict(r)) for r in rows]


async def set_phrases(engine: AsyncEngine, unit: str, phrases: Sequence[str], by: str) -> None:
    row = {
        "unit": unit,
        "phrases": json.dumps(list(phrases), ensure_ascii=False),
        "updated_by": by,
        "updated_at": utcnow(),
    }
    async with engine.begin() as conn:
        await conn.execute(
            upsert(conn, watchlists)
            .values(row)
            .on_conflict_do_update(
                index_elements=["unit"], set_={k: row[k] for k in ("phrases", "updated_by", "updated_at")}
            )
        )

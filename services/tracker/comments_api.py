"""``/api/v1/comments`` (the inbox), ``/api/v1/watchlists/{unit}`` and ``/api/v1/watch/alerts``.

Reading needs ``read`` and shows only the units the caller may read; marking a comment,
replying to it and hiding it (``moderate_comments``) and changing a unit's watchlist
(``manage_watchlist``) are checked on the comment's or the list's unit and audited
(``comment_state``, ``comment_reply``, ``comment_moderate``, ``watchlist_change``). A mark is the
office's own record; a reply or a hide goes to the channel's publisher as a command and the comment
shows ``sending`` until the publisher's outcome arrives (``comment_actions.py``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from loa.access import Principal
from loa.access.policy import Action
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction, topics
from loa.events.commands import CommentRef, CommentReply, ModerateComment, ReplyToComment
from loa.events.comment_actions import CommentActionKind
from loa.text import NfcStr
from services.tracker import comment_actions, comments
from services.tracker.api import ERRORS, Deps, Viewer, send_event
from services.tracker.auth import check_filter, check_unit, requires, visible_units
from services.tracker.comments import CommentOut, CommentState, WatchAlertOut
from services.tracker.context import Tracker
from services.tracker.watch import DEFAULT_PHRASES, PHRASES_MAX, check_phrase
from services.tracker.web import render_page

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["inbox"])
pages = APIRouter(include_in_schema=False)
UnitPath = Annotated[str, Path(min_length=1, max_length=200)]
Moderator = Annotated[Principal, Depends(requires(Action.MODERATE_COMMENTS))]
Keeper = Annotated[Principal, Depends(requires(Action.MANAGE_WATCHLIST))]


class MarkRequest(BaseModel):
    state: CommentState
    note: Annotated[NfcStr, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _escalation_has_a_note(self) -> MarkRequest:
        if self.state is CommentState.ESCALATED and not self.note.strip():
            raise ValueError("note: escalating to a spokesperson needs a note saying why")
        if self.state is CommentState.NEW:
            raise ValueError("state: a comment cannot be marked new again")
        return self


class Watchlist(BaseModel):
    unit: str
    phrases: list[str]
    default: bool = False


class WatchlistRequest(BaseModel):
    phrases: Annotated[list[str], Field(min_length=1, max_length=PHRASES_MAX)]

    @field_validator("phrases")
    @classmethod
    def _checked(cls, phrases: list[str]) -> list[str]:
        return list(dict.fromkeys(check_phrase(p) for p in phrases))


@router.get("/comments", response_model=list[CommentOut], summary="Citizens' comments on published posts")
async def list_comments(
    t: Deps,
    who: Viewer,
    request: Request,
    unit: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    content: Annotated[str | None, Query(max_length=128)] = None,
    keyword: Annotated[str | None, Query(max_length=200)] = None,
    state: CommentState | None = None,
) -> list[CommentOut]:
    """Newest first (200 at most); ``keyword`` matches as the watch does (whole words, marks)."""
    check_filter(request, who, Action.READ, unit)
    return await comments.list_comments(
        t.engine,
        visible_units(request, who),
        unit=unit,
        channel=channel,
        content_id=content,
        keyword=keyword,
        state=state,
    )


@router.post("/comments/{comment_id}/state", response_model=CommentOut, summary="Mark a comment")
async def mark_comment(
    t: Deps,
    request: Request,
    who: Moderator,
    comment_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: MarkRequest,
) -> CommentOut:
    """Seen, answered, hidden or escalated (with a note for the spokesperson), as the office's own mark."""
    found = await comments.get_comment(t.engine, comment_id)
    if found is None:
        raise HTTPException(404, f"no comment {comment_id}")
    check_unit(request, who, Action.MODERATE_COMMENTS, found.unit)
    note = body.note.strip() or None
    await comments.mark(t.engine, comment_id, body.state, note, who.name)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.COMMENT_STATE,
        reason=body.note,
        content_id=found.content_id,
        account=found.account,
        unit=found.unit,
        detail=f"{found.channel} comment {comment_id}: {found.state} → {body.state}",
    )
    marked = await comments.get_comment(t.engine, comment_id)
    assert marked is not None
    return marked


class ReplyRequest(BaseModel):
    text: Annotated[NfcStr, Field(min_length=1, max_length=10_000)]


CommentPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post(
    "/comments/{comment_id}/reply",
    status_code=202,
    response_model=CommentOut,
    summary="Reply as the office's account",
)
async def reply_to_comment(
    t: Deps, request: Request, who: Moderator, comment_id: CommentPath, body: ReplyRequest
) -> CommentOut:
    """Sent to the channel's publisher; the comment is ``sending`` until it answers, then
    ``answered`` with the reply (or the publisher's reason it could not)."""
    found = await _moderated(t, request, who, comment_id)
    try:
        payload = CommentReply(**_ref(found, who), text=body.text)
    except ValidationError as e:
        raise HTTPException(
            422, "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
        ) from e
    command = ReplyToComment(payload=payload, producer="loa-tracker")
    return await _send(t, request, who, found, command, AuditAction.COMMENT_REPLY, body.text)


@router.post(
    "/comments/{comment_id}/hide",
    status_code=202,
    response_model=CommentOut,
    summary="Hide it (Facebook, X) or hold it for review (YouTube)",
)
async def hide_comment(t: Deps, request: Request, who: Moderator, comment_id: CommentPath) -> CommentOut:
    found = await _moderated(t, request, who, comment_id)
    command = ModerateComment(payload=CommentRef(**_ref(found, who)), producer="loa-tracker")
    return await _send(t, request, who, found, command, AuditAction.COMMENT_MODERATE, "")


async def _moderated(t: Tracker, request: Request, who: Principal, comment_id: int) -> CommentOut:
    found = await comments.get_comment(t.engine, comment_id)
    if found is None:
        raise HTTPException(404, f"no comment {comment_id}")
    check_unit(request, who, Action.MODERATE_COMMENTS, found.unit)
    return found


def _ref(found: CommentOut, who: Principal) -> dict[str, str]:
    return {
        "content_id": found.content_id,
        "channel": found.channel,
        "account": found.account,
        "comment_id": found.external_id,
        "action_id": uuid.uuid4().hex,
        "requested_by": who.name,
    }


async def _send(
    t: Tracker,
    request: Request,
    who: Principal,
    found: CommentOut,
    command: ReplyToComment | ModerateComment,
    audited: AuditAction,
    reason: str,
) -> CommentOut:
    """Record the action as sending, send the command (key = content id), audit it."""
    ref = command.payload
    kind = CommentActionKind.REPLY if isinstance(command, ReplyToComment) else CommentActionKind.MODERATE
    if not await comment_actions.start(t.engine, found.id, ref.action_id, kind):
        raise HTTPException(409, f"comment {found.id}: an earlier reply or hide is still being sent")
    try:
        await send_event(t, command, topics.COMMANDS, found.content_id)
    except Exception:
        await comment_actions.fail(
            t.engine, found.id, ref.action_id, "the command could not be sent; try again"
        )
        raise
    await record(
        t.audit,
        actor(who, request),
        audited,
        reason=reason,
        content_id=found.content_id,
        account=found.account,
        unit=found.unit,
        detail=f"{found.channel} comment {found.id} ({found.external_id}): {command.type} sent",
    )
    sent = await comments.get_comment(t.engine, found.id)
    assert sent is not None
    return sent


@router.get("/watchlists/{unit}", response_model=Watchlist, summary="A unit's misinformation watchlist")
async def get_watchlist(t: Deps, who: Viewer, request: Request, unit: UnitPath) -> Watchlist:
    check_unit(request, who, Action.READ, unit)
    async with t.engine.connect() as conn:
        phrases = (await comments.phrases_of(conn, [unit]))[unit]
    return Watchlist(unit=unit, phrases=list(phrases), default=phrases == DEFAULT_PHRASES)


@router.put("/watchlists/{unit}", response_model=Watchlist, summary="Set a unit's watchlist")
async def put_watchlist(
    t: Deps, request: Request, who: Keeper, unit: UnitPath, body: WatchlistRequest
) -> Watchlist:
    """The phrases replace the unit's list (the default until then: "tin giả", "sai sự thật",
    "lừa đảo"); they apply to comments that come from now on."""
    check_unit(request, who, Action.MANAGE_WATCHLIST, unit)
    await comments.set_phrases(t.engine, unit, body.phrases, who.name)
    await record(
        t.audit,
        actor(who, request),
        AuditAction.WATCHLIST_CHANGE,
        unit=unit,
        detail="; ".join(body.phrases)[:2000],
    )
    return Watchlist(unit=unit, phrases=body.phrases)


@router.get("/watch/alerts", response_model=list[WatchAlertOut], summary="What the watch raised lately")
async def watch_alerts(t: Deps, who: Viewer, request: Request) -> list[WatchAlertOut]:
    return await comments.recent_alerts(t.engine, visible_units(request, who))


@pages.get("/inbox", response_class=HTMLResponse)
async def inbox_page(
    t: Deps,
    who: Viewer,
    request: Request,
    unit: Annotated[str, Query(max_length=200)] = "",
    channel: Annotated[str, Query(max_length=32)] = "",
    content: Annotated[str, Query(max_length=128)] = "",
    keyword: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """ "Bình luận": what the watch raised, then the comments by the filters of ``GET /comments``."""
    chosen = CommentState(state) if state in set(CommentState) else None
    check_filter(request, who, Action.READ, unit or None)
    visible = visible_units(request, who)
    found = await comments.list_comments(
        t.engine,
        visible,
        unit=unit or None,
        channel=channel or None,
        content_id=content or None,
        keyword=keyword or None,
        state=chosen,
    )
    filters = {"unit": unit, "channel": channel, "content": content, "keyword": keyword, "state": state}
    return render_page(
        request,
        "inbox.html",
        who,
        comments=found,
        alerts=await comments.recent_alerts(t.engine, visible, limit=10),
        states=[s.value for s in CommentState],
        f=filters,
    )

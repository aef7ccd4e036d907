"""Replying to and moderating a citizen's comment from the inbox, through the owning channel's publisher.

The tracker records the action on the comment (``action_state = sending``) before it sends
``comment.reply`` / ``comment.moderate`` on ``loa.commands.v1``; the channel's publisher does it with
its guarantees (``loa.publisher.comment_actions``) and answers ``comment.action`` on
``loa.delivery.v1``, which ``settle`` applies: a reply makes the comment ``answered`` (keeping the
reply's id and text), a moderation ``hidden``, a failure keeps the state and shows the reason.
Only the outcome of the comment's latest action counts (an older one is ignored).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.db import transaction
from loa.events.comment_actions import CommentActionKind, CommentActionResult, CommentActionState
from services.tracker.comments import CommentState, state_change
from services.tracker.tables import post_comments

SENDING = "sending"


async def start(engine: AsyncEngine, comment_id: int, action_id: str, kind: CommentActionKind) -> bool:
    """Record the action as ``sending``; False if another action of the comment is still being sent."""
    async with engine.begin() as conn:
        done = await conn.execute(
            update(post_comments)
            .where(post_comments.c.id == comment_id)
            .where(or_(post_comments.c.action_state.is_(None), post_comments.c.action_state != SENDING))
            .values(action_id=action_id, action_kind=kind.value, action_state=SENDING, action_error=None)
        )
    return done.rowcount == 1


async def fail(engine: AsyncEngine, comment_id: int, action_id: str, error: str) -> None:
    """The command never left (Kafka unreachable): the action failed, the operator may act again."""
    async with engine.begin() as conn:
        await conn.execute(
            update(post_comments)
            .where(post_comments.c.id == comment_id)
            .where(post_comments.c.action_id == action_id)
            .values(action_state=CommentActionState.FAILED.value, action_error=error)
        )


async def settle(bind: AsyncEngine | AsyncConnection, outcomes: Sequence[CommentActionResult]) -> list[str]:
    """Apply the publishers' outcomes (in the connection's transaction, when given one); returns the
    content ids whose comments changed."""
    changed: list[str] = []
    if not outcomes:
        return changed
    async with transaction(bind) as conn:
        for o in outcomes:
            values: dict[str, object] = {"action_state": o.state.value, "action_error": o.error}
            if o.state is CommentActionState.DONE:
                answered = o.kind is CommentActionKind.REPLY
                moved = state_change(
                    CommentState.ANSWERED if answered else CommentState.HIDDEN, None, o.requested_by
                )
                del moved["note"]  # an escalation's note stays; the reply is kept in its own columns
                values |= moved  # the one rule for state and answered_at (the reports' response time)
                if answered:
                    values |= {"reply_id": o.reply_id, "reply_text": o.reply_text}
            done = await conn.execute(
                update(post_comments)
                .where(post_comments.c.channel == o.channel)
                .where(post_comments.c.account == o.account)
                .where(post_comments.c.external_id == o.comment_id)
                .where(post_comments.c.action_id == o.action_id)
                .values(**values)
            )
            if done.rowcount:
                changed.append(o.content_id)
    return changed

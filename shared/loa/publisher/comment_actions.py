"""``comment.reply`` and ``comment.moderate``: act on a citizen's comment with the publisher's guarantees.

Each action is a row of the job store (``comment_actions``, keyed by the command's action id)
committed as ``sending`` before the platform call and settled ``done`` or ``failed`` after it, with its
``comment.action`` outcome written to the outbox in the same transaction (the relay publishes it on
``loa.delivery.v1``). A command that comes again (Kafka redelivery, a replay) meets the row:

- settled: nothing is called again (the outcome already went out);
- still ``sending`` under another replica's live lease (``store.action_leases``; a rebalance gave
  the command to two replicas): nothing is called; the runner waits until the holder settles it, or
  until its lease runs out (the holder died), and then goes on as in doubt;
- still ``sending`` and free (a crash or a timeout after the request may have left): a reply is
  looked for under the comment first (``find_comment_reply``) and made only if it is not there;
  moderating is idempotent on every platform and is simply asked again.

The holder renews its lease before each attempt and every third of it while it calls, so the lease
outlives any call's timeout and runs out only if the replica dies or stalls; an attempt starts only
while the lease is still the runner's.

Transient errors retry in place with the publishers' backoff (``loa.publisher.backoff.retry_time``)
for ``ATTEMPTS_MAX`` attempts, never waiting longer than ``WAIT_MAX`` at once (the commands
partition is not held behind a long platform reset): after that the action fails naming the reset
time, and the operator can act again. Auth and permanent errors fail at once with the platform's
message; an account is not parked by a comment action (its deliveries do that).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels import Account, ChannelAdapter, ChannelError, TransientError
from loa.channels.comment_actions import CommentActions, refusal
from loa.events import CommentActionSettled, utcnow
from loa.events.commands import CommentReply, ModerateComment, ReplyToComment
from loa.events.comment_actions import CommentActionKind, CommentActionResult, CommentActionState
from loa.publisher.accounts import AccountStore, OptionsTamperedError
from loa.publisher.backoff import retry_time
from loa.publisher.store import action_leases, leases
from loa.publisher.store.action_leases import Claim
from loa.publisher.store.codec import error_from_exception
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.outage import log_failure
from loa.publisher.store.schema import comment_actions

log = logging.getLogger(__name__)

ATTEMPTS_MAX = 3
WAIT_MAX = timedelta(seconds=30)
HOLDER_POLL_SECONDS = 1.0
"""How often a runner that met another replica's lease looks again for its outcome or its end."""


@dataclass(frozen=True)
class Backoff:
    base: float
    cap: float


class CommentActionRunner:
    def __init__(
        self,
        adapter: ChannelAdapter,
        store: JobStore,
        accounts: AccountStore,
        backoff: Backoff,
        *,
        owner: str,
        lease: timedelta,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll: float = HOLDER_POLL_SECONDS,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.accounts = accounts.cache()
        self.backoff = backoff
        self.channel = adapter.name
        self.owner = owner
        """This replica's lease owner (``store.leases.owner``, as its dispatcher's)."""
        self.lease = lease
        self.sleep = sleep
        self.poll = poll

    async def apply(self, command: ReplyToComment | ModerateComment) -> None:
        ref = command.payload
        if ref.channel != self.channel:
            return
        extra = {"content_id": ref.content_id, "channel": ref.channel, "account": ref.account}
        extra["action_id"] = ref.action_id
        claim = await self._claim(command, extra)
        if claim is Claim.SETTLED:
            log.info("%s already settled: not done again", command.type, extra=extra)
            return
        in_doubt = claim is Claim.IN_DOUBT
        if not isinstance(self.adapter, CommentActions):
            await self._settle(command, CommentActionState.FAILED, error=refusal(self.channel))
            return
        account, why = await self._account(ref.account)
        if account is None:
            await self._settle(command, CommentActionState.FAILED, error=why)
            return
        heartbeat = asyncio.create_task(self._heartbeat(ref.action_id), name="comment-action-lease")
        try:
            await self._attempt(self.adapter, command, account, in_doubt, extra)
        finally:
            heartbeat.cancel()

    async def _claim(self, command: ReplyToComment | ModerateComment, extra: dict[str, str]) -> Claim:
        """The action's lease, once no other replica holds it (its holder settles it or dies)."""
        values = _recorded(command)
        claim = await action_leases.claim(self.store, values, self.owner, self.lease)
        if claim is Claim.HELD:
            log.info("%s: another replica is calling; waiting for its outcome", command.type, extra=extra)
        while claim is Claim.HELD:
            await self.sleep(self.poll)
            claim = await action_leases.claim(self.store, values, self.owner, self.lease)
        return claim

    async def _heartbeat(self, action_id: str) -> None:
        while True:
            await asyncio.sleep(leases.renew_every(self.lease))
            try:
                await action_leases.renew(self.store, action_id, self.owner, self.lease)
            except Exception as e:
                log_failure(log, e, "renewing a comment action's lease failed")

    async def _attempt(
        self,
        actions: CommentActions,
        command: ReplyToComment | ModerateComment,
        account: Account,
        in_doubt: bool,
        extra: dict[str, str],
    ) -> None:
        ref = command.payload
        for attempt in range(1, ATTEMPTS_MAX + 1):
            if not await action_leases.renew(
                self.store, ref.action_id, self.owner, self.lease, count_attempt=True
            ):
                log.warning(
                    "%s: its lease ran out; left to the replica that took it", command.type, extra=extra
                )
                return
            try:
                if isinstance(ref, CommentReply):
                    found = (
                        await actions.find_comment_reply(account, ref.comment_id, ref.text)
                        if in_doubt
                        else None
                    )
                    reply_id = found or await actions.reply_to_comment(account, ref.comment_id, ref.text)
                    await self._settle(command, CommentActionState.DONE, reply_id=reply_id)
                else:
                    await actions.moderate_comment(account, ref.comment_id)
                    await self._settle(command, CommentActionState.DONE, moderation=actions.moderation)
                log.info("%s done", command.type, extra=extra)
                return
            except TransientError as e:
                in_doubt = True  # the request may have reached the platform: look before replying again
                due = retry_time(
                    utcnow(), attempt, base=self.backoff.base, cap=self.backoff.cap, retry_at=e.retry_at
                )
                wait = due - utcnow()
                if attempt == ATTEMPTS_MAX or wait > WAIT_MAX:
                    message = error_from_exception(e).message
                    if e.retry_at is not None:
                        message += f" (the platform takes calls again after {e.retry_at.isoformat()})"
                    await self._settle(command, CommentActionState.FAILED, error=message)
                    return
                log.warning(
                    "%s: %s; again in %.1f s", command.type, e.message, wait.total_seconds(), extra=extra
                )
                await self.sleep(max(wait.total_seconds(), 0.0))
            except ChannelError as e:
                await self._settle(command, CommentActionState.FAILED, error=error_from_exception(e).message)
                log.warning("%s failed: %s", command.type, e.message, extra=extra)
                return

    async def _account(self, name: str) -> tuple[Account | None, str]:
        try:
            await self.accounts.refresh()
            found = await self.accounts.get(name)
        except OptionsTamperedError as e:
            return None, str(e)
        if found is None:
            return None, f"account {name!r} is not configured for channel {self.channel}"
        return found.account, ""

    async def _settle(
        self,
        command: ReplyToComment | ModerateComment,
        state: CommentActionState,
        *,
        reply_id: str | None = None,
        moderation: str | None = None,
        error: str | None = None,
    ) -> None:
        """The row settled and its outcome in the outbox, in one transaction."""
        ref = command.payload
        outcome = CommentActionSettled(
            producer=self.store.events.producer,
            correlation_id=str(command.event_id),
            payload=CommentActionResult(
                content_id=ref.content_id,
                channel=ref.channel,
                account=ref.account,
                comment_id=ref.comment_id,
                action_id=ref.action_id,
                kind=_kind(command),
                state=state,
                requested_by=ref.requested_by,
                moderation=moderation,
                reply_id=reply_id,
                reply_text=ref.text if isinstance(ref, CommentReply) and reply_id else None,
                error=error,
            ),
        )
        async with self.store.tx() as conn:
            await _set_state(conn, ref.action_id, state, reply_id, error)
            await self.store.events.emit_other(conn, ref.content_id, outcome.model_dump_json())


async def _set_state(
    conn: AsyncConnection, action_id: str, state: CommentActionState, reply_id: str | None, error: str | None
) -> None:
    await conn.execute(
        update(comment_actions)
        .where(comment_actions.c.action_id == action_id)
        .values(state=state.value, reply_id=reply_id, error=error, lease_expires_at=None, updated_at=utcnow())
    )


def _recorded(command: ReplyToComment | ModerateComment) -> dict[str, Any]:
    """The action's row as recorded before any platform call (``action_leases`` adds state and lease)."""
    ref = command.payload
    return {
        "action_id": ref.action_id,
        "channel": ref.channel,
        "account": ref.account,
        "content_id": ref.content_id,
        "comment_id": ref.comment_id,
        "kind": _kind(command),
        "text": ref.text if isinstance(ref, CommentReply) else None,
        "requested_by": ref.requested_by,
    }


def _kind(command: ReplyToComment | ModerateComment) -> CommentActionKind:
    return CommentActionKind.REPLY if isinstance(command, ReplyToComment) else CommentActionKind.MODERATE

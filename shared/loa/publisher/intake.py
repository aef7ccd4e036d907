"""Intake: content events become jobs (or fail at once); updates, retractions and ops commands.

Everything a message changes is committed before its offset is: redelivery only meets the
unique key (content id, version, channel, account) and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels import (
    Account,
    ChannelAdapter,
    ChannelError,
    NativeWindow,
    Post,
    TransientError,
    handover_at,
    media_missing,
)
from loa.channels.corrections import LINK_OPERATION, link_account
from loa.channels.limits import check_limits
from loa.events import (
    CancelDelivery,
    Content,
    DeliveryError,
    ErrorClass,
    Priority,
    Retraction,
    RetryDelivery,
    Target,
    utcnow,
)
from loa.outages import classify
from loa.publisher.accounts import AccountStore, OptionsTamperedError
from loa.publisher.corrections import link_step
from loa.publisher.holds import Holds, covering, held_note, scheduled_unless_held
from loa.publisher.lifecycle import PENDING, Changes, Move, S
from loa.publisher.pullback import awaiting_pull_back
from loa.publisher.store.codec import error_from_exception, make_error
from loa.publisher.store.holds import ActiveHold
from loa.publisher.store.jobs import Job, JobStore, NewJob

log = logging.getLogger(__name__)

RETRACTED_STATES = frozenset({S.RETRACTING, S.RETRACTED, S.RETRACT_FAILED})


class _Rendered(NamedTuple):
    """The post (or why it can never go), the window in which the account's platform can hold it,
    and the account it was rendered for (None: not configured, or its options unreadable)."""

    post: Post | None
    error: DeliveryError | None
    window: NativeWindow | None = None
    account: Account | None = None


def _extra(content: Content, target: Target) -> dict[str, object]:
    return {
        "content_id": content.id,
        "version": content.version,
        "channel": target.channel,
        "account": target.account,
    }


def _segments(changes: Sequence[Content | Retraction]) -> list[list[tuple[int, Content | Retraction]]]:
    """Consecutive runs in which each content appears once: a later event of the same content
    (v2 after v1, a retraction after the approval) starts a new run, so it sees the earlier one's jobs."""
    segments: list[list[tuple[int, Content | Retraction]]] = [[]]
    seen: set[str] = set()
    for i, change in enumerate(changes):
        if change.id in seen:
            segments.append([])
            seen.clear()
        seen.add(change.id)
        segments[-1].append((i, change))
    return segments


def jumps_ahead(change: Content | Retraction) -> bool:
    """What intake takes in before the rest of a batch, and while the intake gate is closed."""
    return isinstance(change, Retraction) or change.priority is Priority.URGENT


def _first_lane(
    changes: Sequence[Content | Retraction],
) -> tuple[list[Content | Retraction], list[Content | Retraction]]:
    """Urgent contents and retractions that no earlier event of the same content precedes in the
    batch (moving them ahead changes no content's own order), and the rest, each in batch order."""
    first: list[Content | Retraction] = []
    rest: list[Content | Retraction] = []
    seen: set[str] = set()
    for change in changes:
        (first if jumps_ahead(change) and change.id not in seen else rest).append(change)
        seen.add(change.id)
    return first, rest


class Intake:
    def __init__(
        self,
        adapter: ChannelAdapter,
        store: JobStore,
        accounts: AccountStore,
        on_due: Callable[[], None] = lambda: None,
        holds: Holds | None = None,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.holds = holds or Holds(store, on_due)
        self.accounts = accounts.cache()
        self.channel = adapter.name
        self._on_due = on_due

    # ---- content.approved / content.updated / content.retracted ------------------------------

    async def take_in(self, changes: Sequence[Content | Retraction]) -> None:
        """Apply content events (approved/updated contents, retractions), each content's in order.

        What jumps the queue (``_first_lane``: urgent contents, retractions) is rendered and committed
        first, in a transaction of its own, and the dispatcher woken, before the rest of the batch
        is rendered: a batch of normal contents read with it does not hold it up.
        """
        first, rest = _first_lane(changes)
        await self._take_in(first)
        await self._take_in(rest)

    async def _take_in(self, changes: Sequence[Content | Retraction]) -> None:
        """Apply content events in order, in one transaction.

        Rendering happens first, outside the transaction (it may read the media store), and only
        for targets not already known; then one write transaction applies them all, so a batch of
        Kafka messages costs one commit and its offsets are committed after it.
        """
        if not changes:
            return
        await self.accounts.refresh()
        newest = await self.store.newest_versions(list({c.id for c in changes}))
        rendered: dict[tuple[int, str], _Rendered] = {}
        for i, change in enumerate(changes):
            if not isinstance(change, Content):
                continue
            for target in change.targets_of(self.channel):
                if newest.get((change.id, target.account), 0) >= change.version:
                    log.info(
                        "already known (redelivery or older version): ignored", extra=_extra(change, target)
                    )
                    continue
                rendered[(i, target.account)] = await self._render(change, target)
        async with self.store.tx() as conn:
            for segment in _segments(changes):
                await self._apply(conn, segment, rendered)
        # Due now or later: an idle dispatcher sleeps until the earliest due time it read
        # (``Dispatcher._idle_seconds``), which a new or moved job may bring forward.
        self._on_due()

    async def _apply(
        self,
        conn: AsyncConnection,
        segment: list[tuple[int, Content | Retraction]],
        rendered: dict[tuple[int, str], _Rendered],
    ) -> None:
        """One segment (each content at most once): a read, a few writes."""
        existing = await self.store.versions_of(conn, [c.id for _, c in segment])
        active = await self.holds.active(conn)
        moves: list[Move] = []
        new_jobs: list[NewJob] = []
        for i, change in segment:
            if isinstance(change, Content):
                for target in change.targets_of(self.channel):
                    if (i, target.account) in rendered:
                        jobs = existing.get((change.id, target.account), [])
                        found = rendered[(i, target.account)]
                        accepted = self._accept(change, target, jobs, found, moves, active)
                        if accepted:
                            accepted += self._link_step(change, target, existing, active, found.account)
                        new_jobs += accepted
            else:
                await self._retract(conn, change, existing, moves)
        await self.store.transition_many(conn, moves, owner=None)
        for new, job in zip(new_jobs, await self.store.create_many(conn, new_jobs), strict=True):
            if job is None:
                continue
            extra = {"content_id": new.content_id, "version": new.version, "channel": self.channel}
            extra["account"] = new.account
            if new.state is S.HELD:
                log.info("held: %s", new.note, extra=extra)
            elif new.error is None:
                assert new.due_at is not None
                log.info("scheduled for %s", new.due_at.isoformat(), extra=extra)
            else:
                log.warning("cannot be published: %s", new.error.message, extra=extra)

    def _accept(
        self,
        content: Content,
        target: Target,
        existing: list[Job],
        rendered: _Rendered,
        moves: list[Move],
        active: list[ActiveHold],
    ) -> list[NewJob]:
        """The job to create for one target (none if known or retracted); older pending ones cancelled.

        A hold that covers it makes it ``held`` (it keeps its due time: its place on release)."""
        if any(j.version >= content.version for j in existing):
            return []
        if any(j.retract_requested or j.state in RETRACTED_STATES for j in existing):
            log.warning("content was retracted: this version is not published", extra=_extra(content, target))
            return []
        post, error, window = rendered.post, rendered.error, rendered.window
        due = handover_at(post.due_at if post is not None else None, utcnow(), window)
        replaced: Changes = {"due_at": None, "note": f"replaced by version {content.version}"}
        moves += [
            Move(old, S.CANCELLED, replaced) for old in existing if old.state in PENDING and not old.native
        ]
        has_online = any(j.result is not None or j.state is S.PUBLISHING for j in existing)
        hold = covering(active, self.channel, target.account, content.unit) if error is None else None
        state = S.FAILED if error is not None else S.HELD if hold is not None else S.SCHEDULED
        return [
            NewJob(
                content_id=content.id,
                version=content.version,
                account=target.account,
                operation="update" if has_online else "publish",
                post=post,
                state=state,
                due_at=due if error is None else None,
                error=error,
                note=held_note(hold) if hold is not None else None,
                unit=content.unit,
                held_at=utcnow() if hold is not None else None,
                priority=content.priority,
            )
        ]

    def _link_step(
        self,
        content: Content,
        target: Target,
        existing: dict[tuple[str, str], list[Job]],
        active: list[ActiveHold],
        account: Account | None,
    ) -> list[NewJob]:
        """A correction's link step on this target, if the channel links one (``corrections.py``)."""
        linked = existing.get((content.id, link_account(target.account)), [])
        hold = covering(active, self.channel, target.account, content.unit)
        step = link_step(self.adapter, content, target, linked, hold, account)
        return [] if step is None else [step]

    async def _render(self, content: Content, target: Target) -> _Rendered:
        """The post, or why it can never go (unknown account, a limit, the adapter's refusal)."""
        try:
            found = await self.accounts.get(target.account)
        except OptionsTamperedError as e:  # the read parked the account: nothing is rendered with it
            return _Rendered(None, error_from_exception(e))
        if found is None:
            error = make_error(
                ErrorClass.PERMANENT,
                f"account {target.account!r} is not configured for channel {self.channel} "
                f"(add it with: loa accounts add {self.channel} {target.account} ...)",
                code="unknown_account",
            )
            return _Rendered(None, error)
        account: Account = found[0]
        try:
            post = await self.adapter.render(content, target, account)
            check_limits(post, self.adapter.limits)
        except TransientError as e:
            missing = media_missing(e)
            if missing is None:
                raise  # e.g. the media store is down: the message comes again
            return _Rendered(None, error_from_exception(missing), None, account)
        except ChannelError as e:
            return _Rendered(None, error_from_exception(e), None, account)
        except Exception as e:
            missing = media_missing(e)
            if missing is not None:
                return _Rendered(None, error_from_exception(missing), None, account)
            if (outage := classify(e)) is not None:  # e.g. render read the media store while it was down
                raise TransientError(f"{outage.dependency} unreachable while rendering") from e
            # an adapter bug must not make the message a poison pill
            log.exception("render failed", extra={"content_id": content.id, "channel": self.channel})
            error = make_error(ErrorClass.PERMANENT, f"render failed: {e}", code=type(e).__name__)
            return _Rendered(None, error, None, account)
        if post.due_at is None and content.publish_at is not None:
            post.due_at = content.publish_at
        return _Rendered(post, None, self.adapter.native_window(account), account)

    async def _retract(
        self,
        conn: AsyncConnection,
        retraction: Retraction,
        existing: dict[tuple[str, str], list[Job]],
        moves: list[Move],
    ) -> None:
        """Cancel what has not gone; take down what is online; flag what is in flight."""
        note = f"retracted by {retraction.requested_by}: {retraction.reason}"
        for (content_id, _), jobs_of_account in existing.items():
            if content_id != retraction.id:
                continue
            # Held but not pulled back yet: the platform still has it scheduled, so it comes down too.
            online = [
                j
                for j in jobs_of_account
                if j.result is not None and (j.state in (S.PUBLISHED, S.SCHEDULED) or awaiting_pull_back(j))
            ]
            newest_online = online[-1] if online else None
            for job in jobs_of_account:
                if job.operation == LINK_OPERATION:
                    # A link step is not taken down (the comment, the reply, the description line stay
                    # and say the correction was made); one not made yet is cancelled.
                    if job.state in PENDING:
                        moves.append(Move(job, S.CANCELLED, {"due_at": None, "note": note}))
                    continue
                if job is newest_online:
                    retracting: Changes = {
                        "due_at": utcnow(),
                        "retract_requested": True,
                        "note": note,
                        "native": False,
                    }
                    moves.append(Move(job, S.RETRACTING, retracting))
                elif job.state in PENDING or (job.state is S.SCHEDULED and job.native):
                    moves.append(
                        Move(job, S.CANCELLED, {"due_at": None, "retract_requested": True, "note": note})
                    )
                elif job.state is S.PUBLISHING:
                    await self.store.set_quietly(conn, job, owner=None, retract_requested=True)
        log.info("retraction taken in", extra={"content_id": retraction.id, "channel": self.channel})

    # ---- ops commands -------------------------------------------------------------------------

    async def command(self, command: RetryDelivery | CancelDelivery) -> None:
        ref = command.payload
        if ref.channel != self.channel:
            return
        extra = {"content_id": ref.content_id, "channel": ref.channel, "account": ref.account}
        async with self.store.tx() as conn:
            versions = await self.store.versions(conn, ref.content_id, ref.account)
            if not versions:
                log.warning("%s: no such delivery", command.type, extra=extra)
                return
            job = versions[-1]
            who = f"{command.type} by {ref.requested_by}" + (f": {ref.reason}" if ref.reason else "")
            if isinstance(command, CancelDelivery):
                if job.state not in PENDING:
                    log.warning("cannot cancel a delivery in state %s", job.state, extra=extra)
                    return
                await self.store.transition(conn, job, S.CANCELLED, due_at=None, note=who)
                return
            if job.state is S.RETRACT_FAILED:
                await self.store.transition(
                    conn, job, S.RETRACTING, due_at=utcnow(), error=None, note=who, attempt_floor=job.attempt
                )
            elif job.state in (S.FAILED, S.NEEDS_ATTENTION, S.RETRYING) and job.post is not None:
                again = Changes(due_at=utcnow(), error=None, attempt_floor=job.attempt, parked_version=None)
                state, changes = await scheduled_unless_held(self.store, conn, job, who, again)
                await self.store.transition(conn, job, state, **changes)
            else:
                log.warning("cannot retry a delivery in state %s (or never rendered)", job.state, extra=extra)
                return
        self._on_due()

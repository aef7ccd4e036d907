"""The hold switch on one channel: ``publishing.hold`` / ``.release`` and the late items after it.

A hold moves every job it covers that waits for the dispatcher (``scheduled``, ``retrying``) to
``held``, which the dispatcher never claims, whatever its due time; a job already ``publishing``
finishes. A natively scheduled post (the platform holds it) is then pulled back from the
platform (``pullback.py``). Intake creates a job a hold
covers as ``held``. The holds are rows of the job store (``store/holds.py``), written with the
moves in one transaction before the command's offset is committed: a publisher that restarts
during a hold finds its held jobs held and its holds active before its dispatcher claims anything.

A release moves each job no other active hold covers back to ``scheduled`` with its due time
unchanged, so the dispatcher takes them in their original order (by due time). A job whose own
time (``publish_at``) passed while it was held stays ``held`` and waits for ops: send it now or
at a new time (``delivery.release``), or cancel it (``delivery.cancel``). A job the platform still
holds (not pulled back yet) goes back to ``scheduled`` as it was: the platform publishes it.

Each command is applied under the channel's holds lock (``locks.holds_lock``), which pull-backs
take too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels.corrections import base_account
from loa.events import (
    LATE_NOTE,
    Hold,
    HoldCommand,
    HoldPublishing,
    HoldRelease,
    ReleaseDelivery,
    utcnow,
)
from loa.publisher.job import Job
from loa.publisher.lifecycle import HOLDABLE, Changes, Move, S
from loa.publisher.locks import holds_lock
from loa.publisher.pullback import awaiting_pull_back
from loa.publisher.store.holds import ActiveHold, HoldRecords
from loa.publisher.store.jobs import JobStore

log = logging.getLogger(__name__)


def held_note(hold: Hold) -> str:
    return f"held by {hold.requested_by}: {hold.reason}"


def covering(active: Sequence[ActiveHold], channel: str, account: str, unit: str | None) -> Hold | None:
    """The first active hold that covers a delivery, if any."""
    # A correction's link step is held as its account is (``<account>~đính-chính``).
    return next((a.hold for a in active if a.hold.covers(channel, base_account(account), unit)), None)


def is_late(job: Job, now: datetime) -> bool:
    """Its own time (``publish_at``) came while it was held: sending it now needs a person's yes."""
    publish_at = job.post.due_at if job.post is not None else None
    return publish_at is not None and job.held_at is not None and job.held_at <= publish_at <= now


async def scheduled_unless_held(
    store: JobStore, conn: AsyncConnection, job: Job, note: str, changes: Changes
) -> tuple[S, Changes]:
    """Where a job that may go again (retried by ops, its account fixed) goes: ``scheduled``, or
    ``held`` while a hold covers it (nothing gets round a hold); ``changes`` plus the note saying why."""
    active = await HoldRecords(store.engine).active(conn)
    hold = covering(active, store.channel, job.account, job.unit)
    out = changes.copy()
    if hold is None:
        out.update({"note": note, "held_at": None})
        return S.SCHEDULED, out
    out.update({"note": f"{note}; {held_note(hold)}", "held_at": utcnow()})
    return S.HELD, out


class Holds:
    def __init__(
        self,
        store: JobStore,
        on_due: Callable[[], None] = lambda: None,
        on_held: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.channel = store.channel
        self.records = HoldRecords(store.engine)
        self._on_due = on_due
        self._on_held = on_held
        """Wakes the pull-backs (``PullBacks.wake``)."""

    async def active(self, conn: AsyncConnection) -> list[ActiveHold]:
        return await self.records.active(conn)

    async def apply(self, command: HoldCommand) -> None:
        """A hold or a release; a scope naming another channel is recorded all the same (cheap,
        and the list of holds stays the same on every channel)."""
        async with holds_lock(self.store.engine, self.channel), self.store.tx() as conn:
            if isinstance(command, HoldPublishing):
                moved = await self._hold(conn, command.payload, command.occurred_at)
            else:
                moved = await self._release(conn, command.payload, utcnow())
        log.info(
            "%s %s: %d job(s) moved",
            command.type,
            command.payload.hold_id,
            moved,
            extra={"channel": self.channel},
        )
        if moved:
            (self._on_held if isinstance(command, HoldPublishing) else self._on_due)()

    async def _hold(self, conn: AsyncConnection, hold: Hold, at: datetime) -> int:
        if not await self.records.record(conn, hold, at):
            return 0  # released already: a redelivered hold does nothing
        waiting = await self.store.in_states(conn, HOLDABLE)
        changes: Changes = {"note": held_note(hold), "held_at": at}
        # A natively scheduled one too, still ``native``: the pull-backs take it off the platform.
        moves = [
            Move(job, S.HELD, changes)
            for job in waiting
            if hold.covers(self.channel, base_account(job.account), job.unit)
        ]
        return sum(1 for m in await self.store.transition_many(conn, moves, owner=None) if m)

    async def _release(self, conn: AsyncConnection, release: HoldRelease, now: datetime) -> int:
        await self.records.release(conn, release, now)
        active = await self.records.active(conn)
        freed = [
            job
            for job in await self.store.in_states(conn, (S.HELD,))
            if covering(active, self.channel, job.account, job.unit) is None
        ]
        note = f"released by {release.requested_by}" + (f": {release.reason}" if release.reason else "")
        moves = [
            Move(job, S.SCHEDULED, {"note": note, "held_at": None})
            if awaiting_pull_back(job)  # the platform still holds it: it goes at its time
            else Move(job, S.HELD, {"note": LATE_NOTE})
            if is_late(job, now)
            else Move(job, S.SCHEDULED, {"note": note, "held_at": None})
            for job in freed
            if awaiting_pull_back(job)
            or not (is_late(job, now) and job.note == LATE_NOTE)  # late already: nothing new to say
        ]
        done = await self.store.transition_many(conn, moves, owner=None)
        return sum(1 for m in done if m is not None and m.state is S.SCHEDULED)

    async def release_delivery(self, command: ReleaseDelivery) -> None:
        """Ops' choice for a late item: send it now, or at ``command.at``."""
        ref = command.payload
        if ref.channel != self.channel:
            return
        extra = {"content_id": ref.content_id, "channel": ref.channel, "account": ref.account}
        async with holds_lock(self.store.engine, self.channel), self.store.tx() as conn:
            versions = await self.store.versions(conn, ref.content_id, ref.account)
            job = versions[-1] if versions else None
            if job is None or job.state is not S.HELD:
                log.warning(
                    "delivery.release: not held (%s)", job.state if job else "no such delivery", extra=extra
                )
                return
            active = await self.records.active(conn)
            if (hold := covering(active, self.channel, job.account, job.unit)) is not None:
                log.warning("delivery.release: hold %s still covers it", hold.hold_id, extra=extra)
                return
            when = command.at or utcnow()
            who = f"{command.type} by {ref.requested_by}" + (f": {ref.reason}" if ref.reason else "")
            await self.store.transition(conn, job, S.SCHEDULED, due_at=when, note=who, held_at=None)
        self._on_due()

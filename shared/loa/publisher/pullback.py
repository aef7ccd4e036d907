"""Natively scheduled posts under a hold: pulled back from the platform, put back on release.

A hold moves a natively scheduled job (``scheduled`` with ``native``: the platform holds the post
and would publish it at its time) to ``held`` like any other, still ``native``: the platform
still has it. This worker then asks the adapter to take it off the platform's schedule
(``ChannelAdapter.pull_back``: Facebook deletes the scheduled post, YouTube clears ``publishAt``,
WordPress sets the post back to ``draft``) and records it: ``held``, no longer ``native``, with
the note "đã rút lịch khỏi nền tảng" (a status event ops see). After the release the job is an
ordinary ``scheduled`` one: the dispatcher calls ``publish``, which hands it to the platform's
scheduler again at its own time (or, its time passed, ops decide, as for any held item).

Exactly once: the platform call comes before the commit, and a pull-back is harmless twice, so
a crash between the two only repeats it. Holds, releases and pull-backs of a channel take one
lock (``locks.holds_lock``) across replicas: a release never lands between a pull-back's call
and its commit (it would leave a job the platform no longer holds marked ``native``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels import AuthError, ChannelAdapter, PermanentError, TransientError
from loa.events import utcnow
from loa.publisher.accounts import AccountStore
from loa.publisher.job import Job, LostJobError
from loa.publisher.lifecycle import S
from loa.publisher.locks import holds_lock
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.outage import log_failure

log = logging.getLogger(__name__)

PULLED_BACK_NOTE = "đã rút lịch khỏi nền tảng (pulled back from the platform's schedule until the release)"
POLL_SECONDS = 5.0
"""How often pull-backs that failed (a transient error, the store away) are tried again."""


def awaiting_pull_back(job: Job) -> bool:
    """Held while the platform still holds the post: the pull-back has not happened yet."""
    return job.state is S.HELD and job.native


class PullBacks:
    def __init__(self, adapter: ChannelAdapter, store: JobStore, accounts: AccountStore) -> None:
        self.adapter = adapter
        self.store = store
        self.accounts = accounts
        self.wake = asyncio.Event()

    async def run(self) -> None:
        """Pull back what a hold covers as soon as it is held, and again every ``POLL_SECONDS``."""
        while True:
            self.wake.clear()
            try:
                await self.pull_back_all()
            except Exception as e:
                log_failure(log, e, "pulling scheduled posts back failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_SECONDS)

    async def pull_back_all(self) -> int:
        """Every held job the platform still holds; the number pulled back."""
        async with self.store.tx() as conn:
            waiting = [job.id for job in await self.store.in_states(conn, (S.HELD,)) if job.native]
        done = 0
        for job_id in waiting:
            async with holds_lock(self.store.engine, self.store.channel):
                done += await self._pull_back(job_id)
        return done

    async def _pull_back(self, job_id: int) -> int:
        async with self.store.tx() as conn:
            job = await self.store.get(conn, job_id, lock=False)
        if job is None or not awaiting_pull_back(job) or job.result is None or job.post is None:
            return 0  # released, retracted or pulled back meanwhile
        found = await self.accounts.get(job.account)
        if found is None:
            log.warning("cannot pull back: its account is gone", extra=job.log_extra())
            return 0
        try:
            pulled = await self.adapter.pull_back(job.post, job.result, found.account)
        except (TransientError, AuthError) as e:
            log.warning("pull-back failed (%s); tried again later", e, extra=job.log_extra())
            return 0
        except PermanentError as e:  # it cannot be pulled back: the platform publishes it at its time
            return await self._left_scheduled(
                job, f"the platform would not pull it back ({e}); it goes at its time"
            )
        if not pulled:
            return await self._left_scheduled(
                job, "the platform had published it before the hold pulled it back"
            )
        try:
            async with self.store.tx() as conn:
                await self._record(conn, job)
        except LostJobError:  # retracted or replaced meanwhile: pulled back all the same, harmless
            return 0
        log.info("pulled back from the platform's schedule", extra=job.log_extra())
        return 1

    async def _record(self, conn: AsyncConnection, job: Job) -> None:
        """``held``, no longer ``native``; cancelled if an update came meanwhile (that version goes)."""
        newest = max(j.version for j in await self.store.versions(conn, job.content_id, job.account))
        if newest > job.version:
            note = f"replaced by version {newest}; {PULLED_BACK_NOTE}"
            await self.store.transition(conn, job, S.CANCELLED, due_at=None, note=note)
            return
        note = f"{PULLED_BACK_NOTE}; {job.note}" if job.note else PULLED_BACK_NOTE
        await self.store.transition(conn, job, S.HELD, native=False, due_at=utcnow(), note=note)

    async def _left_scheduled(self, job: Job, note: str) -> int:
        """Back to ``scheduled`` (still ``native``): the dispatcher confirms it at its time."""
        log.warning(note, extra=job.log_extra())
        with contextlib.suppress(LostJobError):
            async with self.store.tx() as conn:
                await self.store.transition(conn, job, S.SCHEDULED, note=note, held_at=None)
        return 0

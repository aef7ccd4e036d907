"""Jobs whose outcome is not known yet: ``publishing`` after an interruption (in doubt), and
natively scheduled posts past their time (to confirm). Neither is ever published again blindly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels import AuthError, ChannelError, PublishResult, TransientError
from loa.events import utcnow
from loa.publisher.accounts import FoundAccount
from loa.publisher.answers import AnswerWriter, call_host
from loa.publisher.backoff import after_reset
from loa.publisher.job import Job
from loa.publisher.lifecycle import S
from loa.publisher.parking import Parking
from loa.publisher.store.codec import error_from_exception
from loa.publisher.worker import JobWorker

log = logging.getLogger(__name__)

IN_DOUBT_RECHECK_SECONDS = 10.0


async def still_in_doubt(conn: AsyncConnection, worker: JobWorker, job: Job, error: ChannelError) -> None:
    """The platform could not say whether the call went: keep ``publishing`` and ask again in
    ``IN_DOUBT_RECHECK_SECONDS`` (the lease is the timer), the error shown meanwhile."""
    fresh = await worker.outcomes.fresh(conn, job)
    await worker.store.set_quietly(
        conn,
        fresh,
        owner=worker.outcomes.owner,
        error=error_from_exception(error),
        lease_owner=None,
        lease_expires_at=utcnow() + timedelta(seconds=IN_DOUBT_RECHECK_SECONDS),
    )


@dataclass(eq=False)
class Recovery(JobWorker):
    parking: Parking
    answers: AnswerWriter

    async def in_doubt(self, job: Job) -> None:
        """``publishing`` after a crash: did the platform get it? Never publish again before knowing."""
        assert job.post is not None
        log.warning("in doubt after an interruption: asking the platform", extra=job.log_extra())
        found: FoundAccount | None = None
        existing: PublishResult | None = None
        try:  # options changed outside `loa accounts` raise AuthError here (the read parked them)
            found = await self.accounts.get(job.account)
            if found is None:
                raise AuthError(f"account {job.account} is not configured")
            existing = await self.adapter.find_existing(job.post, found.account)
        except ChannelError as e:
            # Still in doubt: keep `publishing`, look again later (the lease is the timer). An
            # AuthError also parks the account, so its other jobs wait for a person too.
            async with self.store.tx() as conn:
                if isinstance(e, AuthError) and found is not None:
                    version = max(found.version, self.accounts.written.get(job.account, 0))
                    await self.accounts.park(conn, job.account, version)
                await still_in_doubt(conn, self, job, e)
            return
        if existing is not None:
            note = "found on the platform after an interruption"
            await self.answers.record(job, existing, note, call_host(self.adapter, found.account))
            return
        async with self.store.tx() as conn:
            fresh = await self.outcomes.fresh(conn, job)
            # Retracted meanwhile: never publish again; the retraction takes down any part made.
            state = S.RETRACTING if fresh.retract_requested else S.RETRYING
            note = (
                "retracted while publishing was interrupted"
                if fresh.retract_requested
                else "not on the platform (or only in part) after an interruption: publishing again"
            )
            await self.store.transition(
                conn, fresh, state, owner=self.outcomes.owner, due_at=utcnow(), note=note
            )
        self.wake.set()

    def sent_maybe(self, job: Job, error: BaseException) -> bool:
        """The call failed after its request may have reached the platform, with attempts left."""
        return isinstance(error, TransientError) and error.in_doubt and self.outcomes.attempts_left(job)

    async def after_timeout(self, job: Job, error: ChannelError) -> None:
        """Keep ``publishing``: once the short lease runs out, ``in_doubt`` asks the platform
        before any new attempt (a blind retry would post twice if the platform had it)."""
        log.warning("the platform may have the post: asking it before sending again", extra=job.log_extra())
        async with self.store.tx() as conn:
            await still_in_doubt(conn, self, job, error)

    async def confirm(self, job: Job) -> None:
        """A natively scheduled post past its time: live → ``published``; not yet → look again later."""
        assert job.result is not None
        found = await self.parking.account(job)
        if found is None:
            return
        try:
            live = await self.adapter.confirm(job.result, found.account)
        except TransientError as e:
            live = None
            delay = max(0.0, (after_reset(e.retry_at) - utcnow()).total_seconds()) if e.retry_at else None
        except ChannelError as e:
            await self.outcomes.fail(job, e)
            return
        else:
            delay = None
        if live is None:
            await self.outcomes.defer(job, delay or self.settings.publisher_confirm_interval_seconds)
            return
        # Live now, whatever flag the adapter copied over (the default confirm returns ``previous``):
        # left natively scheduled, the job would go back to `scheduled` and be confirmed forever.
        host = call_host(self.adapter, found.account)
        await self.answers.record(job, replace(live, scheduled_natively=False), host=host)

"""Taking down what a retraction reaches: jobs in ``retracting``, and jobs still in ``publishing``.

A job in ``publishing`` whose content was retracted (intake flags it) has its task cancelled at a
safe point (between SDK calls, ``loa.channels.threads``) and goes to ``retracting``; a job in
``retracting`` finds what the platform made (``find_existing`` when it has no result) and retracts it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from loa.channels import AuthError, ChannelError, TransientError
from loa.events import utcnow
from loa.publisher.job import Job, LostJobError
from loa.publisher.lifecycle import S
from loa.publisher.worker import JobWorker

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Withdrawal(JobWorker):
    in_flight: Mapping[int, asyncio.Task[None]]
    """The dispatcher's tasks, by job id."""
    withdrawn: set[int] = field(default_factory=set)
    """In-flight jobs cancelled because their content was retracted."""

    async def stop_retracted(self) -> None:
        """A job in ``publishing`` whose content was retracted: stop its platform work now."""
        for job_id in await self.store.retracted_in_flight(list(self.in_flight)):
            task = self.in_flight.get(job_id)
            if task is not None and job_id not in self.withdrawn:
                self.withdrawn.add(job_id)
                task.cancel()

    async def after_stop(self, job: Job) -> None:
        """The cancelled job goes to ``retracting``, unless its answer was written first (then the
        answer's own transition already took it there)."""
        note = "retracted while publishing: the platform work was stopped"
        try:
            await self.outcomes.move(job, S.RETRACTING, found_in=S.PUBLISHING, due_at=utcnow(), note=note)
        except LostJobError:
            return
        log.info("retracted while publishing: work stopped", extra=job.log_extra())
        self.wake.set()

    async def retract(self, job: Job) -> None:
        # Without a result, a job that was ever in `publishing` (stopped by this retraction, or
        # interrupted) may have made something on the platform: find_existing says what.
        if job.result is None and job.attempt == 0:  # never reached the platform
            await self.outcomes.move(job, S.RETRACTED)
            return
        try:
            found = await self.accounts.get(job.account)
        except AuthError as e:  # options changed outside `loa accounts`: the read parked the account
            await self.outcomes.fail(job, e)
            return
        if found is None:
            await self.outcomes.fail(job, AuthError(f"account {job.account} is not configured"))
            return
        try:
            made = job.result
            if made is None and job.post is not None:  # stopped while publishing: what was made by then
                made = await self.adapter.find_existing(job.post, found.account)
            if made is not None:
                await self.adapter.retract(made, found.account)
        except TransientError as e:
            await self.outcomes.retry(job, e)
            return
        except ChannelError as e:
            await self.outcomes.fail(job, e)
            return
        except Exception as e:
            await self.outcomes.retry(job, e)
            return
        await self.outcomes.move(job, S.RETRACTED, error=None)
        log.info("retracted", extra=job.log_extra())

"""What becomes of a job this replica holds: moved on, failed, retried later, or deferred.

Each write reads the job again in its own transaction and requires it to be still ours and in
the state we left it (``LostJobError`` otherwise): a lease that ran out may have handed it on.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Unpack

from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels import ChannelError, TransientError
from loa.events import utcnow
from loa.publisher.backoff import retry_time
from loa.publisher.job import Job, LostJobError
from loa.publisher.lifecycle import Changes, S, failed_state
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.codec import error_from_exception
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.outage import is_store_outage

log = logging.getLogger(__name__)


class Outcomes:
    def __init__(
        self, store: JobStore, owner: str, settings: PublisherSettings, metrics: RuntimeMetrics
    ) -> None:
        self.store = store
        self.owner = owner
        self.settings = settings
        self.metrics = metrics

    async def fresh(self, conn: AsyncConnection, job: Job, state: S | None = None) -> Job:
        """The job as stored now, still ours and in ``state`` (default: the state ``job`` was in);
        raise ``LostJobError`` otherwise."""
        state = state or job.state
        fresh = await self.store.get(conn, job.id)
        if fresh is None or fresh.state is not state or fresh.lease_owner != self.owner:
            raise LostJobError(f"job {job.id} is no longer ours in state {state}")
        return fresh

    async def move(self, job: Job, to: S, *, found_in: S | None = None, **changes: Unpack[Changes]) -> Job:
        """Move the job, as stored now and still ours in ``found_in`` (default: its state), to ``to``."""
        async with self.store.tx() as conn:
            fresh = await self.fresh(conn, job, found_in)
            return await self.store.transition(conn, fresh, to, owner=self.owner, **changes)

    async def fail(self, job: Job, error: ChannelError, host: str | None = None) -> None:
        """``failed`` (or ``retract_failed``); ``host``: where the refused call went, if one was made
        (else the last call's host stays)."""
        recorded = error_from_exception(error)
        await self.move(job, failed_state(job), error=recorded, target_host=host or job.target_host)
        log.warning("failed: %s", error.message, extra=job.log_extra())

    def attempts_left(self, job: Job) -> bool:
        return job.attempts_since_retry < self.settings.publisher_max_attempts

    async def retry(self, job: Job, error: BaseException, host: str | None = None) -> None:
        """Back off (never before the platform's reset time), or fail once the attempts are spent."""
        recorded = error_from_exception(error)
        retry_at = error.retry_at if isinstance(error, TransientError) else None
        if is_store_outage(error) and not isinstance(error, ChannelError):
            log.warning("job store unavailable during the call: %s", recorded.message, extra=job.log_extra())
        elif not isinstance(error, ChannelError):
            log.error(
                "adapter raised an unmapped %s", type(error).__name__, exc_info=error, extra=job.log_extra()
            )
        if not self.attempts_left(job):
            await self.move(job, failed_state(job), error=recorded, target_host=host or job.target_host)
            return
        async with self.store.tx() as conn:
            fresh = await self.fresh(conn, job)
            due = retry_time(
                utcnow(),
                fresh.attempts_since_retry,
                base=self.settings.publisher_backoff_base_seconds,
                cap=self.settings.publisher_backoff_cap_seconds,
                retry_at=retry_at,
            )
            retracting = job.state is S.RETRACTING
            await self.store.transition(
                conn,
                fresh,
                S.RETRACTING if retracting else S.RETRYING,
                owner=self.owner,
                due_at=due,
                error=recorded,
                attempt=fresh.attempt + 1 if retracting else fresh.attempt,
                target_host=host or fresh.target_host,  # no call made: the last one's host stays
            )
        self.metrics.retries.labels(error_class=str(recorded.error_class)).inc()
        log.info("retrying at %s: %s", due.isoformat(), recorded.message, extra=job.log_extra())

    async def defer(self, job: Job, seconds: float) -> None:
        """Not now (rate limit, an older version in flight): due later, lease released, no state change."""
        async with self.store.tx() as conn:
            fresh = await self.fresh(conn, job)
            await self.store.set_quietly(
                conn,
                fresh,
                owner=self.owner,
                due_at=utcnow() + timedelta(seconds=seconds),
                lease_owner=None,
                lease_expires_at=None,
            )

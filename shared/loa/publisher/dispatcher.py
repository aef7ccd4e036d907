"""The dispatcher: claims due jobs under a lease and drives them through the platform.

The rule that makes a crash harmless: ``publishing`` (with the attempt number) is committed
*before* the platform is called. A job found in ``publishing`` whose lease has expired, or that
this replica held before a restart, is in doubt, and ``find_existing`` decides whether it went.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loa.channels import (
    Account,
    AuthError,
    ChannelAdapter,
    ChannelError,
    DuplicatePostError,
    PermanentError,
    PublishResult,
    TransientError,
    UnsupportedError,
    handover_at,
    media_missing,
)
from loa.channels.scheduling import whole_second_after
from loa.events import DeliveryError, DeliveryState, ErrorClass, utcnow
from loa.publisher.accounts import AccountStore
from loa.publisher.backoff import after_reset, retry_time
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.ratelimit import AccountBuckets
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.codec import error_from_exception, make_error
from loa.publisher.store.jobs import Changes, Job, JobStore, LostJobError
from loa.publisher.store.outage import is_database_outage, is_store_outage

log = logging.getLogger(__name__)

S = DeliveryState
RESUME_CHECK_SECONDS = 1.0
IN_DOUBT_RECHECK_SECONDS = 10.0
OLDER_IN_FLIGHT_WAIT_SECONDS = 2.0
ACCOUNTS_REFRESH_SECONDS = 0.5
ANSWERS_PER_TX = 200
STORE_RETRY_SECONDS = 1.0
"""How often answers the platform gave are offered again to a job store that is down."""
ATTENTION = "attention"
"""Account option: why ``check_account`` parked it (shown in ``loa accounts`` and on its jobs)."""


def _log_failure(error: Exception, what: str) -> None:
    """A store outage in one line a second (it is expected to pass); anything else with its traceback."""
    if is_store_outage(error):
        log.warning("%s: job store unavailable (%s)", what, type(error).__name__)
    else:
        log.error(what, exc_info=error)


def _retraction_requested(_: Job) -> dict[str, Any]:
    return {"due_at": utcnow(), "note": "retraction requested"}


class Dispatcher:
    def __init__(
        self,
        adapter: ChannelAdapter,
        store: JobStore,
        accounts: AccountStore,
        settings: PublisherSettings,
        metrics: RuntimeMetrics,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.accounts = accounts
        self.settings = settings
        self.metrics = metrics
        self.owner = f"{settings.publisher_replica_id}/{adapter.name}"
        self.lease = timedelta(seconds=settings.publisher_lease_seconds)
        self.buckets = AccountBuckets(adapter.limits.requests_per_period)
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.wake = asyncio.Event()
        self.last_tick = time.monotonic()
        self._stopping = asyncio.Event()
        self._accounts = accounts.cache()
        self._accounts_read = -ACCOUNTS_REFRESH_SECONDS
        self._answers: list[tuple[Job, PublishResult, str | None, asyncio.Future[Job | None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._checker: asyncio.Task[None] | None = None
        self._last_check = float("-inf")
        self._withdrawn: set[int] = set()
        """In-flight jobs cancelled because their content was retracted."""
        self._dropped: set[int] = set()
        """Jobs whose handling a job store outage cut short: still leased by us, given back as
        soon as the store answers (``_release_dropped``) rather than when the lease runs out."""

    # ---- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(), name="lease-heartbeat")
        first = True
        last_resume = 0.0
        try:
            while not self._stopping.is_set():
                self.wake.clear()  # before claiming: a wake-up during the claim is not lost
                self.last_tick = time.monotonic()
                if self.last_tick - last_resume >= RESUME_CHECK_SECONDS:
                    last_resume = self.last_tick
                    await self._guarded(self._resume_parked)
                    await self._guarded(self._withdraw_retracted)
                await self._guarded(self._release_dropped)
                self._maybe_check_accounts()
                free = self.settings.publisher_concurrency - len(self.in_flight)
                claimed: list[Job] = []
                if free > 0:
                    want = min(free, self.settings.publisher_claim_batch)
                    await self._guarded(self._refresh_accounts)
                    accepted: dict[int, tuple[Account, int]] = {}
                    claimed = await self._guarded_claim(want, reclaim_own=first, accepted=accepted)
                    first = False
                    for job in claimed:
                        started = accepted.get(job.id) if job.state is S.PUBLISHING else None
                        self.in_flight[job.id] = asyncio.create_task(
                            self._handle(job, started=started), name=f"job-{job.id}"
                        )
                    if len(claimed) == want and len(self.in_flight) < self.settings.publisher_concurrency:
                        continue
                await self._wait()
        finally:
            heartbeat.cancel()
            if self._checker is not None:
                self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _wait(self) -> None:
        """Sleep until a slot frees, intake wakes us, shutdown, or the poll interval passes."""
        waiters: set[asyncio.Future[object]] = {
            asyncio.ensure_future(self.wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        }
        if len(self.in_flight) >= self.settings.publisher_concurrency:
            waiters |= set(self.in_flight.values())  # type: ignore[arg-type]
        try:
            await asyncio.wait(
                waiters, timeout=self.settings.publisher_poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                if waiter not in self.in_flight.values():
                    waiter.cancel()

    async def _guarded_claim(
        self, want: int, *, reclaim_own: bool, accepted: dict[int, tuple[Account, int]]
    ) -> list[Job]:
        def start(job: Job) -> bool:
            account = self._startable_account(job)
            if account is not None:
                accepted[job.id] = account
            return account is not None

        try:
            return await self.store.claim(
                self.owner,
                limit=want,
                lease=self.lease,
                reclaim_own=reclaim_own,
                start=start,
                skip=list(self.in_flight),
            )
        except Exception as e:
            _log_failure(e, "claiming due jobs failed; trying again")
            await asyncio.sleep(1)
            return []

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as e:
            _log_failure(e, f"dispatcher step {getattr(step, '__name__', step)} failed")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self.store.renew(self.owner, list(self.in_flight), self.lease)
            except Exception as e:
                _log_failure(e, "renewing leases failed")

    async def stop(self, grace: float) -> None:
        """Stop claiming; let in-flight work finish for ``grace`` seconds, then cancel and release it."""
        self._stopping.set()
        pending = list(self.in_flight.values())
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        leftover = sorted({*self.in_flight, *self._dropped})
        if leftover:
            # A cancelled job left in `publishing` is in doubt: released, it is checked at once.
            await self.store.release(self.owner, leftover)

    # ---- one job ------------------------------------------------------------------------------

    def _startable_account(self, job: Job) -> tuple[Account, int] | None:
        """Whether a claimed job may go to ``publishing`` in the claim's own transaction.

        Only the common case, decided from memory: first version, account cached at its current
        version and not parked, a token in the account's bucket. Anything else (an older version
        to check, an account to load or park, a rate limit to wait for) takes the one-job path.
        """
        if job.version != 1 or job.post is None:
            return None
        cached = self._accounts.cached(job.account)
        if cached is None or self._accounts.versions[job.account][1] == cached[1]:  # parked
            return None
        if self._hold_until(job, cached[0]) is not None:
            return None
        return cached if self.buckets.try_take(job.account) == 0 else None

    async def _handle(self, job: Job, *, started: tuple[Account, int] | None = None) -> None:
        """Drive one claimed job; ``started``: the claim already committed its ``publishing``."""
        try:
            if started is not None:
                await self._call_platform(job, started[0], started[1], None)
            elif job.state is S.PUBLISHING:
                await self._recover_in_doubt(job)
            elif job.state is S.RETRACTING:
                await self._retract(job)
            elif job.native:
                await self._confirm(job)
            else:
                await self._publish(job)
        except LostJobError as e:
            log.info("job moved while we worked on it: %s", e, extra=job.log_extra())
        except asyncio.CancelledError:
            if job.id not in self._withdrawn:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]  # ours: retracted
            await self._guarded(lambda: self._after_withdrawal(job))
        except Exception as e:
            if is_database_outage(e):  # not a platform's OSError: that one waits for the lease
                self._dropped.add(job.id)
                log.warning(
                    "job store unavailable while handling the job (%s); it comes back once the store answers",
                    type(e).__name__,
                    extra=job.log_extra(),
                )
            else:
                log.exception(
                    "job handling failed; the lease will expire and it comes back", extra=job.log_extra()
                )
        finally:
            self.in_flight.pop(job.id, None)
            self._withdrawn.discard(job.id)

    async def _release_dropped(self) -> None:
        """Give back the leases of jobs a store outage cut short, once the store answers: nobody
        works on them any more, and a lease left to run out kept them (and a delivery the platform
        may already have) waiting a whole lease after the outage. A job left in ``publishing`` is
        then in doubt at once, and ``find_existing`` settles it."""
        dropped = sorted(self._dropped.difference(self.in_flight))
        if not dropped:
            return
        await self.store.release(self.owner, dropped)
        self._dropped.difference_update(dropped)
        self.wake.set()

    async def _withdraw_retracted(self) -> None:
        """A job in ``publishing`` whose content was retracted: stop its platform work now.

        The cancellation lands at a safe point (between SDK calls, ``loa.channels.threads``); what
        the platform had made by then is taken down by the retraction (``_retract``).
        """
        for job_id in await self.store.retracted_in_flight(list(self.in_flight)):
            task = self.in_flight.get(job_id)
            if task is not None and job_id not in self._withdrawn:
                self._withdrawn.add(job_id)
                task.cancel()

    async def _after_withdrawal(self, job: Job) -> None:
        """The cancelled job goes to ``retracting``, unless its answer was written first (then the
        answer's own transition already took it there)."""
        try:
            async with self.store.tx() as conn:
                fresh = await self._fresh(conn, job, S.PUBLISHING)
                note = "retracted while publishing: the platform work was stopped"
                await self.store.transition(
                    conn, fresh, S.RETRACTING, owner=self.owner, due_at=utcnow(), note=note
                )
        except LostJobError:
            return
        log.info("retracted while publishing: work stopped", extra=job.log_extra())
        self.wake.set()

    async def _fresh(self, conn: AsyncConnection, job: Job, state: S | None = None) -> Job:
        """The job as stored now, still ours and in ``state`` (default: the state ``job`` was in);
        raise ``LostJobError`` otherwise."""
        state = state or job.state
        fresh = await self.store.get(conn, job.id)
        if fresh is None or fresh.state is not state or fresh.lease_owner != self.owner:
            raise LostJobError(f"job {job.id} is no longer ours in state {state}")
        return fresh

    async def _refresh_accounts(self) -> None:
        """Read account versions (one small query, at most every ACCOUNTS_REFRESH_SECONDS before a
        claim): a changed account is decrypted again."""
        if time.monotonic() - self._accounts_read < ACCOUNTS_REFRESH_SECONDS:
            return
        await self._accounts.refresh()
        self._accounts_read = time.monotonic()

    async def _account(self, job: Job) -> tuple[Account, int] | None:
        """The job's account, or None after parking the job (account missing or parked)."""
        found = await self._accounts.get(job.account)
        if found is None:
            await self._park(job, 0, make_error(ErrorClass.AUTH, f"account {job.account} is not configured"))
            return None
        account, version, parked = found
        if parked == version:
            why = account.options.get(ATTENTION) or "was refused by the platform"
            error = make_error(
                ErrorClass.AUTH,
                f"account {job.account}: {why}; update its credentials "
                f"(loa accounts update {job.channel} {job.account} ...)",
            )
            await self._park(job, version, error)
            return None
        return account, version

    async def _park(
        self, job: Job, version: int, error: DeliveryError, *, account_version: int | None = None
    ) -> None:
        async with self.store.tx() as conn:
            if account_version is not None:
                await self.accounts.park(conn, job.account, account_version)
            fresh = await self._fresh(conn, job)
            await self.store.transition(
                conn, fresh, S.NEEDS_ATTENTION, owner=self.owner, parked_version=version, error=error
            )
        if account_version is not None:  # seen at once by the next claim, before the next refresh
            self._accounts_read = -ACCOUNTS_REFRESH_SECONDS
        log.warning("account parked: job needs attention", extra=job.log_extra())

    async def _previous(self, job: Job) -> tuple[PublishResult | None, bool]:
        """The result of the newest older version on the platform, and whether an older one is in flight."""
        if job.version == 1:
            return None, False
        async with self.store.tx() as conn:
            others = [
                j
                for j in await self.store.versions(conn, job.content_id, job.account)
                if j.version < job.version
            ]
        in_flight = any(j.state is S.PUBLISHING for j in others)
        with_result = [j for j in others if j.result is not None and j.state in (S.PUBLISHED, S.SCHEDULED)]
        return (with_result[-1].result if with_result else None), in_flight

    async def _publish(self, job: Job) -> None:
        assert job.post is not None, "a scheduled job always carries its rendered post"
        found = await self._account(job)
        if found is None:
            return
        account, version = found
        hold = self._hold_until(job, account)
        if hold is not None:
            # Late to be dispatched (a restart, a backlog, a retry), now under the platform's
            # minimum lead: the platform cannot hold it any more, so Loa does, until its time.
            await self._defer(job, (hold - utcnow()).total_seconds())
            return
        previous, older_in_flight = await self._previous(job)
        if older_in_flight:
            await self._defer(job, OLDER_IN_FLIGHT_WAIT_SECONDS)
            return
        wait = self.buckets.try_take(account.name)
        if wait > 0:
            await self._defer(job, wait)
            return
        async with self.store.tx() as conn:
            fresh = await self._fresh(conn, job)
            job = await self.store.transition(
                conn,
                fresh,
                S.PUBLISHING,
                owner=self.owner,
                attempt=fresh.attempt + 1,
                error=None,
                lease_owner=self.owner,
                lease_expires_at=utcnow() + self.lease,
            )
        await self._call_platform(job, account, version, previous)

    def _hold_until(self, job: Job, account: Account) -> datetime | None:
        """When this job may reach the platform, if not now (the check right before the call)."""
        assert job.post is not None
        now = utcnow()
        at = handover_at(job.post.due_at, now, self.adapter.native_window(account))
        return at if at > now else None

    async def _call_platform(
        self, job: Job, account: Account, version: int, previous: PublishResult | None
    ) -> None:
        """``publishing`` is committed: call the platform once, then record what it answered."""
        started = time.monotonic()
        post = job.post
        assert post is not None
        note: str | None = None
        try:
            if previous is not None:
                result, note = await self._update(job, previous, account)
            else:
                result = await self.adapter.publish(post, account)
        except DuplicatePostError as e:
            existing = await self._find_existing_quietly(job, account)
            if existing is None:
                await self._fail(job, e)
                return
            result, note = existing, "the platform already had this post"
        except AuthError as e:
            # The adapter may have written the account meanwhile (a refresh marker): park that.
            version = max(version, self.accounts.written.get(job.account, 0))
            await self._park(job, version, error_from_exception(e), account_version=version)
            return
        except PermanentError as e:
            await self._fail(job, e)
            return
        except Exception as e:  # TransientError, and anything the adapter failed to map
            missing = media_missing(e)  # however the adapter wrapped it: not a transient fault
            await (self._fail(job, missing) if missing else self._retry(job, e))
            return
        finally:
            self.metrics.publish_seconds.observe(time.monotonic() - started)
        await self._succeeded(job, result, note)

    async def _update(
        self, job: Job, previous: PublishResult, account: Account
    ) -> tuple[PublishResult, str | None]:
        """Edit the post already online; a channel that cannot edit keeps it, with a note saying so."""
        assert job.post is not None
        if self.adapter.supports_update:
            try:
                return await self.adapter.update(job.post, previous, account), None
            except UnsupportedError as e:
                reason = e.message
        else:
            reason = f"{self.adapter.name} cannot edit a published post"
        return previous, f"{reason}; the earlier version stays online"

    async def _find_existing_quietly(self, job: Job, account: Account) -> PublishResult | None:
        assert job.post is not None
        try:
            return await self.adapter.find_existing(job.post, account)
        except ChannelError:
            return None

    async def _succeeded(self, job: Job, result: PublishResult, note: str | None = None) -> None:
        """Record the platform's answer; answers arriving together share one transaction."""
        future: asyncio.Future[Job | None] = asyncio.get_running_loop().create_future()
        self._answers.append((job, result, note, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_answers(), name="answers-writer")
        new = await future
        if new is None:
            raise LostJobError(f"job {job.id} is no longer ours in state {job.state}")
        self.wake.set()
        log.info("published", extra=new.log_extra())

    async def _write_answers(self) -> None:
        """Group commit: write every answer waiting, in one transaction, until none is left.

        Not cancelled with the jobs that wait on it: an answer the platform gave is worth
        writing even during shutdown (else the job stays in doubt and ``find_existing`` settles it).
        """
        while self._answers:
            batch, self._answers = self._answers[:ANSWERS_PER_TX], self._answers[ANSWERS_PER_TX:]
            try:
                async with self.store.tx() as conn:
                    moves = [self._answer_move(job, result, note) for job, result, note, _ in batch]
                    moved = await self.store.transition_many(conn, moves, owner=self.owner)
                    # Retracted while the platform call was in flight: take it down next.
                    retract: list[tuple[Job, S, Changes]] = [
                        (new, S.RETRACTING, _retraction_requested)
                        for new in moved
                        if new and new.retract_requested
                    ]
                    await self.store.transition_many(conn, retract, owner=None)
            except Exception as e:
                if is_store_outage(e):  # kept, in order, until the store is back
                    log.warning("job store unavailable (%s): %d answers wait", type(e).__name__, len(batch))
                    self._answers[:0] = batch
                    await asyncio.sleep(STORE_RETRY_SECONDS)
                    continue
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(e)
                continue
            for new, (*_, future) in zip(moved, batch, strict=True):
                if new is not None and new.state is S.PUBLISHED:
                    self.metrics.published.inc()
                if not future.done():
                    future.set_result(new)

    def _answer_move(self, job: Job, result: PublishResult, note: str | None) -> tuple[Job, S, Changes]:
        if not result.scheduled_natively:
            return job, S.PUBLISHED, {"result": result, "native": False, "note": note}

        def native(fresh: Job) -> dict[str, Any]:
            # Confirmed from the time the platform was given (whole seconds, rounded up), not before.
            due = fresh.post.due_at if fresh.post and fresh.post.due_at else None
            confirm_at = whole_second_after(due) if due is not None else utcnow()
            return {"result": result, "native": True, "due_at": confirm_at, "note": note}

        return job, S.SCHEDULED, native

    async def _fail(self, job: Job, error: ChannelError) -> None:
        async with self.store.tx() as conn:
            fresh = await self._fresh(conn, job)
            state = S.RETRACT_FAILED if job.state is S.RETRACTING else S.FAILED
            await self.store.transition(
                conn, fresh, state, owner=self.owner, error=error_from_exception(error)
            )
        log.warning("failed: %s", error.message, extra=job.log_extra())

    async def _retry(self, job: Job, error: BaseException) -> None:
        """Back off (never before the platform's reset time), or fail once the attempts are spent."""
        recorded = error_from_exception(error)
        retry_at = error.retry_at if isinstance(error, TransientError) else None
        if is_store_outage(error) and not isinstance(error, ChannelError):
            log.warning("job store unavailable during the call: %s", recorded.message, extra=job.log_extra())
        elif not isinstance(error, ChannelError):
            log.error(
                "adapter raised an unmapped %s", type(error).__name__, exc_info=error, extra=job.log_extra()
            )
        exhausted = job.attempts_since_retry >= self.settings.publisher_max_attempts
        async with self.store.tx() as conn:
            fresh = await self._fresh(conn, job)
            if exhausted:
                state = S.RETRACT_FAILED if job.state is S.RETRACTING else S.FAILED
                await self.store.transition(conn, fresh, state, owner=self.owner, error=recorded)
                return
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
            )
        self.metrics.retries.labels(error_class=str(recorded.error_class)).inc()
        log.info("retrying at %s: %s", due.isoformat(), recorded.message, extra=job.log_extra())

    async def _defer(self, job: Job, seconds: float) -> None:
        """Not now (rate limit, an older version in flight): due later, lease released, no state change."""
        async with self.store.tx() as conn:
            fresh = await self._fresh(conn, job)
            await self.store.set_quietly(
                conn,
                fresh,
                owner=self.owner,
                due_at=utcnow() + timedelta(seconds=seconds),
                lease_owner=None,
                lease_expires_at=None,
            )

    # ---- in doubt, natively scheduled, retraction ---------------------------------------------

    async def _recover_in_doubt(self, job: Job) -> None:
        """``publishing`` after a crash: did the platform get it? Never publish again before knowing."""
        assert job.post is not None
        log.warning("in doubt after an interruption: asking the platform", extra=job.log_extra())
        found = await self.accounts.get(job.account)
        existing: PublishResult | None = None
        try:
            if found is None:
                raise AuthError(f"account {job.account} is not configured")
            existing = await self.adapter.find_existing(job.post, found[0])
        except ChannelError as e:
            # Still in doubt: keep `publishing`, look again later (the lease is the timer). An
            # AuthError also parks the account, so its other jobs wait for a person too.
            async with self.store.tx() as conn:
                if isinstance(e, AuthError) and found is not None:
                    version = max(found[1], self.accounts.written.get(job.account, 0))
                    await self.accounts.park(conn, job.account, version)
                fresh = await self._fresh(conn, job)
                await self.store.set_quietly(
                    conn,
                    fresh,
                    owner=self.owner,
                    error=error_from_exception(e),
                    lease_owner=None,
                    lease_expires_at=utcnow() + timedelta(seconds=IN_DOUBT_RECHECK_SECONDS),
                )
            return
        if existing is not None:
            await self._succeeded(job, existing, note="found on the platform after an interruption")
            return
        async with self.store.tx() as conn:
            fresh = await self._fresh(conn, job)
            # Retracted meanwhile: never publish again; the retraction takes down any part made.
            state = S.RETRACTING if fresh.retract_requested else S.RETRYING
            note = (
                "retracted while publishing was interrupted"
                if fresh.retract_requested
                else "not on the platform (or only in part) after an interruption: publishing again"
            )
            await self.store.transition(conn, fresh, state, owner=self.owner, due_at=utcnow(), note=note)
        self.wake.set()

    async def _confirm(self, job: Job) -> None:
        """A natively scheduled post past its time: live → ``published``; not yet → look again later."""
        assert job.result is not None
        found = await self._account(job)
        if found is None:
            return
        try:
            live = await self.adapter.confirm(job.result, found[0])
        except TransientError as e:
            live = None
            delay = max(0.0, (after_reset(e.retry_at) - utcnow()).total_seconds()) if e.retry_at else None
        except ChannelError as e:
            await self._fail(job, e)
            return
        else:
            delay = None
        if live is None:
            await self._defer(job, delay or self.settings.publisher_confirm_interval_seconds)
            return
        # Live now, whatever flag the adapter copied over (the default confirm returns ``previous``):
        # left natively scheduled, the job would go back to `scheduled` and be confirmed forever.
        await self._succeeded(job, replace(live, scheduled_natively=False))

    async def _retract(self, job: Job) -> None:
        # Without a result, a job that was ever in `publishing` (stopped by this retraction, or
        # interrupted) may have made something on the platform: find_existing says what.
        if job.result is None and job.attempt == 0:  # never reached the platform
            async with self.store.tx() as conn:
                fresh = await self._fresh(conn, job)
                await self.store.transition(conn, fresh, S.RETRACTED, owner=self.owner)
            return
        found = await self.accounts.get(job.account)
        if found is None:
            await self._fail(job, AuthError(f"account {job.account} is not configured"))
            return
        try:
            made = job.result
            if made is None and job.post is not None:  # stopped while publishing: what was made by then
                made = await self.adapter.find_existing(job.post, found[0])
            if made is not None:
                await self.adapter.retract(made, found[0])
        except TransientError as e:
            await self._retry(job, e)
            return
        except ChannelError as e:
            await self._fail(job, e)
            return
        except Exception as e:
            await self._retry(job, e)
            return
        async with self.store.tx() as conn:
            fresh = await self._fresh(conn, job)
            await self.store.transition(conn, fresh, S.RETRACTED, owner=self.owner, error=None)
        log.info("retracted", extra=job.log_extra())

    # ---- the daily account check ---------------------------------------------------------------

    def _maybe_check_accounts(self) -> None:
        """Every ``publisher_account_check_seconds`` (first at start), in the background."""
        if self.last_tick - self._last_check < self.settings.publisher_account_check_seconds:
            return
        if self._checker is not None and not self._checker.done():
            return
        self._last_check = self.last_tick
        self._checker = asyncio.create_task(self._guarded(self.check_accounts), name="account-check")

    async def check_accounts(self) -> None:
        """``adapter.check_account`` for each account not parked; a reason parks it with that reason."""
        for name, (version, parked) in (await self.accounts.versions()).items():
            if parked == version:
                continue
            found = await self.accounts.get(name)
            if found is None:
                continue
            account = found[0]
            try:
                reason = await self.adapter.check_account(account)
            except Exception:
                log.exception("checking account %s failed", name)
                continue
            if reason:
                async with self.store.tx() as conn:
                    flagged = await self.accounts.update(name, options={ATTENTION: reason}, conn=conn)
                    await self.accounts.park(conn, name, flagged)
                log.warning("account %s needs attention: %s", name, reason)
            elif account.options.get(ATTENTION):
                await self.accounts.update(name, options={ATTENTION: ""})

    # ---- accounts coming back -----------------------------------------------------------------

    async def _resume_parked(self) -> None:
        """Jobs parked on an account whose credentials changed since go back to ``scheduled``."""
        versions = await self.accounts.versions()
        async with self.store.engine.connect() as conn:  # read first: a write lock only when needed
            parked = await self.store.parked(conn)
        if not any(versions.get(j.account, (j.parked_version,))[0] != j.parked_version for j in parked):
            return
        async with self.store.tx() as conn:
            for job in await self.store.parked(conn):
                current = versions.get(job.account)
                if current is None or current[0] == job.parked_version:
                    continue
                await self.store.transition(
                    conn,
                    job,
                    S.SCHEDULED,
                    due_at=utcnow(),
                    parked_version=None,
                    error=None,
                    note=f"account {job.account} changed (version {current[0]}): trying again",
                )
                log.info("account changed: job resumes", extra=job.log_extra())
                # The claim must see the new version too: with the cache's older (parked) one it
                # would park the job again at once (seen under load in the e2e expired-token test).
                self._accounts_read = -ACCOUNTS_REFRESH_SECONDS
                self.wake.set()

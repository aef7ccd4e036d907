"""The dispatcher: claims due jobs under a lease and drives them through the platform.

The rule that makes a crash harmless: ``publishing`` (with the attempt number) is committed
*before* the platform is called. A job found in ``publishing`` whose lease has expired, or that
this replica held before a restart, is in doubt, and ``find_existing`` decides whether it went
(``recovery.py``). What becomes of a job after the call is ``outcomes.py`` and ``answers.py``;
accounts that need a person, ``parking.py``; retractions, ``withdrawal.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from loa.channels import (
    Account,
    AuthError,
    ChannelAdapter,
    ChannelError,
    DuplicatePostError,
    PermanentError,
    PublishResult,
    handover_at,
    media_missing,
)
from loa.channels.corrections import LINK_OPERATION
from loa.events import utcnow
from loa.publisher.accounts import AccountStore, CachedAccount
from loa.publisher.answers import AnswerWriter, call_host
from loa.publisher.job import Job, LostJobError
from loa.publisher.lifecycle import S, attempt_started, jumps_the_queue
from loa.publisher.linking import Linking
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.outcomes import Outcomes
from loa.publisher.parking import Parking
from loa.publisher.ratelimit import AccountBuckets, reserved_slots
from loa.publisher.recovery import Recovery
from loa.publisher.settings import PublisherSettings
from loa.publisher.store import leases
from loa.publisher.store.codec import error_from_exception
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.outage import is_database_outage, log_failure
from loa.publisher.updates import older_versions, update_online
from loa.publisher.withdrawal import Withdrawal

log = logging.getLogger(__name__)

RESUME_CHECK_SECONDS = 1.0
OLDER_IN_FLIGHT_WAIT_SECONDS = 2.0
IDLE_WAIT_SECONDS = 2.0
"""Nothing claimed, nothing in flight, and a poll passed with nothing waking the dispatcher: the
longest it sleeps before it claims again. It sleeps until the earliest waiting job is due if that
is sooner (``_idle_seconds``), and what makes work in this process wakes it (intake, holds,
reschedules, parked jobs resuming, take-downs); the wait finds only what nothing here wakes it for:
a lease another replica let run out, a job another replica wrote, an account's new version for the
jobs parked on it. At ``publisher_poll_seconds`` (0.2) an idle publisher claimed five times a
second, most of its idle CPU (issue #20, docs/benchmarks.md "Session 33")."""
TIMER_SLACK_SECONDS = 0.005
"""Added to a sleep until a due time: a timer that fires a hair early would find nothing due."""


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
        self.owner = leases.owner(settings.publisher_replica_id, adapter.name)
        self.lease = timedelta(seconds=settings.publisher_lease_seconds)
        self.buckets = AccountBuckets(adapter.limits.requests_per_period)
        self.urgent_slots = reserved_slots(settings.publisher_concurrency)
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.wake = asyncio.Event()
        self.last_tick = time.monotonic()
        self._stopping = asyncio.Event()
        self.outcomes = Outcomes(store, self.owner, settings, metrics)
        self.answers = AnswerWriter(store, self.owner, metrics, self.wake)
        parts = (adapter, store, accounts, self.outcomes, settings, self.wake)
        self.parking = Parking(*parts)
        self.withdrawal = Withdrawal(*parts, in_flight=self.in_flight)
        self.recovery = Recovery(*parts, parking=self.parking, answers=self.answers)
        self.linking = Linking(*parts, answers=self.answers, buckets=self.buckets)
        self._jumping: set[int] = set()
        """In-flight jobs that jump the queue (urgent content, take-downs): while any is, no normal
        job starts, so an urgent call shares the CPU and the platform with fewer normal ones."""
        self._dropped: set[int] = set()
        """Jobs whose handling a job store outage cut short: still leased by us, given back as
        soon as the store answers (``_release_dropped``) rather than when the lease runs out."""

    # ---- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(), name="lease-heartbeat")
        first = True
        last_resume = 0.0
        quiet = False  # the last wait ran out with nothing waking it
        try:
            while not self._stopping.is_set():
                self.wake.clear()  # before claiming: a wake-up during the claim is not lost
                self.last_tick = time.monotonic()
                if self.last_tick - last_resume >= RESUME_CHECK_SECONDS:
                    last_resume = self.last_tick
                    await self._guarded(self.parking.resume_parked)
                    await self._guarded(self.withdrawal.stop_retracted)
                await self._guarded(self._release_dropped)
                self.parking.check_when_due(self.last_tick)
                free = self.settings.publisher_concurrency - len(self.in_flight)
                claimed: list[Job] = []
                if free > 0:
                    # Normal work never takes the last `urgent_slots` slots (see `reserved_slots`),
                    # nor starts while work that jumps the queue is in flight (`_jumping_in_flight`).
                    jumping_only = free <= self.urgent_slots or self._jumping_in_flight()
                    want = min(
                        free if jumping_only else free - self.urgent_slots,
                        self.settings.publisher_claim_batch,
                    )
                    await self._guarded(self.parking.refresh)
                    accepted: dict[int, CachedAccount] = {}
                    claimed = await self._guarded_claim(
                        want, reclaim_own=first, accepted=accepted, jumping_only=jumping_only
                    )
                    first = False
                    for job in claimed:
                        started = accepted.get(job.id) if job.state is S.PUBLISHING else None
                        self.in_flight[job.id] = asyncio.create_task(
                            self._handle(job, started=started), name=f"job-{job.id}"
                        )
                        if jumps_the_queue(job):
                            self._jumping.add(job.id)
                    if len(claimed) == want and len(self.in_flight) < self.settings.publisher_concurrency:
                        continue
                # Idle after a quiet poll: a stream's wake-ups (intake's batches) keep a busy
                # dispatcher on the poll, with no read of the next due time between its deliveries.
                idle = quiet and not claimed and not self.in_flight
                quiet = await self._wait(
                    await self._idle_seconds() if idle else self.settings.publisher_poll_seconds
                )
        finally:
            heartbeat.cancel()
            self.parking.stop_checking()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    def _jumping_in_flight(self) -> bool:
        """Whether urgent work or a take-down is in flight here: normal work then waits, on a
        loaded machine the one lever a publisher has over how long the urgent call itself takes
        (docs/architecture.md, "The urgent lane"). Rare by design (urgent is a spokesperson's)."""
        return bool(self._jumping)

    async def _idle_seconds(self) -> float:
        """How long an idle dispatcher sleeps: until the earliest waiting job is due, at most
        ``IDLE_WAIT_SECONDS``, at least the poll (a job due already is leased by another replica)."""
        poll = self.settings.publisher_poll_seconds
        try:
            due = await self.store.next_due()
        except Exception as e:
            log_failure(log, e, "reading the next due time failed")
            return poll
        longest = max(poll, IDLE_WAIT_SECONDS)
        if due is None:
            return longest
        return min(longest, max(poll, (due - utcnow()).total_seconds() + TIMER_SLACK_SECONDS))

    async def _wait(self, seconds: float) -> bool:
        """Sleep until a slot frees, something wakes us, shutdown, or ``seconds`` pass (True)."""
        waiters: set[asyncio.Future[object]] = {
            asyncio.ensure_future(self.wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        }
        if len(self.in_flight) >= self.settings.publisher_concurrency - self.urgent_slots:
            waiters |= set(self.in_flight.values())  # type: ignore[arg-type]
        try:
            done, _ = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            return not done
        finally:
            for waiter in waiters:
                if waiter not in self.in_flight.values():
                    waiter.cancel()

    async def _guarded_claim(
        self, want: int, *, reclaim_own: bool, accepted: dict[int, CachedAccount], jumping_only: bool
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
                jumping_only=jumping_only,
            )
        except Exception as e:
            log_failure(log, e, "claiming due jobs failed; trying again")
            await asyncio.sleep(1)
            return []

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as e:
            log_failure(log, e, f"dispatcher step {getattr(step, '__name__', step)} failed")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(leases.renew_every(self.lease))
            try:
                await self.store.renew(self.owner, list(self.in_flight), self.lease)
            except Exception as e:
                log_failure(log, e, "renewing leases failed")

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

    async def check_accounts(self) -> None:
        """``adapter.check_account`` for each account not parked (``Parking.check_accounts``)."""
        await self.parking.check_accounts()

    # ---- one job ------------------------------------------------------------------------------

    def _startable_account(self, job: Job) -> CachedAccount | None:
        """Whether a claimed job may go to ``publishing`` in the claim's own transaction.

        Only the common case, decided from memory: first version, account cached at its current
        version and not parked, a token in the account's bucket. Anything else (an older version
        to check, an account to load or park, a rate limit to wait for) takes the one-job path.
        """
        if job.version != 1 or job.post is None:
            return None
        cached = self.parking.usable_from_memory(job.account)
        if cached is None or self._hold_until(job, cached.account) is not None:
            return None
        return cached if self.buckets.try_take(job.account, urgent=jumps_the_queue(job)) == 0 else None

    async def _handle(self, job: Job, *, started: CachedAccount | None = None) -> None:
        """Drive one claimed job; ``started``: the claim already committed its ``publishing``."""
        try:
            if started is not None:
                await self._call_platform(job, started.account, started.version, None)
            elif job.operation == LINK_OPERATION:
                await self.linking.run(job)
            elif job.state is S.PUBLISHING:
                await self.recovery.in_doubt(job)
            elif job.state is S.RETRACTING:
                await self.withdrawal.retract(job)
            elif job.native:
                await self.recovery.confirm(job)
            else:
                await self._publish(job)
        except LostJobError as e:
            log.info("job moved while we worked on it: %s", e, extra=job.log_extra())
        except asyncio.CancelledError:
            if job.id not in self.withdrawal.withdrawn:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]  # ours: retracted
            await self._guarded(lambda: self.withdrawal.after_stop(job))
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
            if job.id in self._jumping:
                self._jumping.discard(job.id)
                self.wake.set()  # normal work may start again
            self.withdrawal.withdrawn.discard(job.id)

    async def _publish(self, job: Job) -> None:
        assert job.post is not None, "a scheduled job always carries its rendered post"
        found = await self.parking.account(job)
        if found is None:
            return
        account, version = found
        hold = self._hold_until(job, account)
        if hold is not None:
            # Late to be dispatched (a restart, a backlog, a retry), now under the platform's
            # minimum lead: the platform cannot hold it any more, so Loa does, until its time.
            await self.outcomes.defer(job, (hold - utcnow()).total_seconds())
            return
        older = await older_versions(self.store, job)
        if older.in_flight:
            await self.outcomes.defer(job, OLDER_IN_FLIGHT_WAIT_SECONDS)
            return
        wait = self.buckets.try_take(account.name, urgent=jumps_the_queue(job))
        if wait > 0:
            await self.outcomes.defer(job, wait)
            return
        async with self.store.tx() as conn:
            fresh = await self.outcomes.fresh(conn, job)
            changes = attempt_started(fresh, self.owner, utcnow() + self.lease)
            job = await self.store.transition(conn, fresh, S.PUBLISHING, owner=self.owner, **changes)
        await self._call_platform(job, account, version, older.online)

    def _hold_until(self, job: Job, account: Account) -> datetime | None:
        """When this job may reach the platform, if not now (the check right before the call)."""
        assert job.post is not None
        now = utcnow()
        at = handover_at(job.post.due_at, now, self.adapter.native_window(account))
        return at if at > now else None

    async def _call_platform(
        self, job: Job, account: Account, version: int, previous: PublishResult | None
    ) -> None:
        """``publishing`` is committed (here or by the claim), and with it what is sent
        (``loa.publisher.store.status_events``): call the platform once, then record what it answered."""
        started = time.monotonic()
        post = job.post
        assert post is not None
        note: str | None = None
        host = call_host(self.adapter, account)
        try:
            if previous is not None:
                result, note = await update_online(self.adapter, job, previous, account)
            else:
                result = await self.adapter.publish(post, account)
        except DuplicatePostError as e:
            existing = await self._find_existing_quietly(job, account)
            if existing is None:
                await self.outcomes.fail(job, e, host)
                return
            result, note = existing, "the platform already had this post"
        except AuthError as e:
            # The adapter may have written the account meanwhile (a refresh marker): park that.
            version = max(version, self.accounts.written.get(job.account, 0))
            await self.parking.park(job, version, error_from_exception(e), account_version=version)
            return
        except PermanentError as e:
            await self.outcomes.fail(job, e, host)
            return
        except Exception as e:  # TransientError, and anything the adapter failed to map
            missing = media_missing(e)  # however the adapter wrapped it: not a transient fault
            if missing:
                await self.outcomes.fail(job, missing, host)
            elif previous is None and isinstance(e, ChannelError) and self.recovery.sent_maybe(job, e):
                await self.recovery.after_timeout(job, e)
            else:
                await self.outcomes.retry(job, e, host)
            return
        finally:
            self.metrics.publish_seconds.observe(time.monotonic() - started)
        await self.answers.record(job, result, note or result.note, host)

    async def _find_existing_quietly(self, job: Job, account: Account) -> PublishResult | None:
        assert job.post is not None
        try:
            return await self.adapter.find_existing(job.post, account)
        except ChannelError:
            return None

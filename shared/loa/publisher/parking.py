"""Accounts that need a person: their jobs wait in ``needs_attention`` until the credentials change.

An account is parked by the platform refusing it (``AuthError``) or by the daily account check
(``adapter.check_account`` gave a reason); every job that meets it parks too, and all of them
resume once ``loa accounts update`` (or a rotation) gives the account a new version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from loa.events import DeliveryError, ErrorClass, utcnow
from loa.publisher.accounts import AccountVersion, CachedAccount, FoundAccount, OptionsTamperedError
from loa.publisher.holds import scheduled_unless_held
from loa.publisher.job import Job
from loa.publisher.lifecycle import Changes, S
from loa.publisher.store.codec import error_from_exception, make_error
from loa.publisher.store.outage import log_failure
from loa.publisher.worker import JobWorker

log = logging.getLogger(__name__)

ACCOUNTS_REFRESH_SECONDS = 0.5
ATTENTION = "attention"
"""Account option: why ``check_account`` parked it (shown in ``loa accounts`` and on its jobs)."""


def _changed_since_parked(job: Job, versions: dict[str, AccountVersion]) -> int | None:
    """The account's version if it changed since it parked ``job`` (None: unchanged, or gone)."""
    current = versions.get(job.account)
    return current.version if current is not None and current.version != job.parked_version else None


@dataclass(eq=False)
class Parking(JobWorker):
    def __post_init__(self) -> None:
        self.cache = self.accounts.cache()
        self._read = -ACCOUNTS_REFRESH_SECONDS
        self._read_at = datetime.min.replace(tzinfo=UTC)
        """When the versions in ``cache`` were read (wall clock, taken before the query)."""
        self._last_check = float("-inf")
        self._checker: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Read account versions (one small query, at most every ACCOUNTS_REFRESH_SECONDS before a
        claim): a changed account is decrypted again."""
        if time.monotonic() - self._read < ACCOUNTS_REFRESH_SECONDS:
            return
        read_at = utcnow()
        await self.cache.refresh()
        self._read, self._read_at = time.monotonic(), read_at

    def read_before_next_claim(self) -> None:
        """The next claim reads account versions first, however recently they were read."""
        self._read = -ACCOUNTS_REFRESH_SECONDS

    def usable_from_memory(self, name: str) -> CachedAccount | None:
        """The account if it is cached at its current version and not parked (no I/O)."""
        cached = self.cache.cached(name)
        return None if cached is None or self.cache.versions[name].parked else cached

    async def account(self, job: Job) -> CachedAccount | None:
        """The job's account, or None after parking the job (account missing or parked)."""
        try:
            found = await self._current(job)
        except OptionsTamperedError as e:  # the store parked the account; the job waits with it
            await self.park(job, e.version, error_from_exception(e), account_version=e.version)
            return None
        if found is None:
            await self.park(job, 0, make_error(ErrorClass.AUTH, f"account {job.account} is not configured"))
            return None
        if found.parked:
            why = found.account.options.get(ATTENTION) or "was refused by the platform"
            error = make_error(
                ErrorClass.AUTH,
                f"account {job.account}: {why}; update its credentials "
                f"(loa accounts update {job.channel} {job.account} ...)",
            )
            await self.park(job, found.version, error)
            return None
        return CachedAccount(found.account, found.version)

    async def _current(self, job: Job) -> FoundAccount | None:
        """The job's account as the cache has it, read again when the cache would park the job on
        versions read before the job was due: new credentials may have come since (a person's
        retry usually follows them, and another replica may have read them already)."""
        found = await self.cache.get(job.account)
        parks = found is None or found.parked
        if parks and (job.due_at is None or self._read_at <= job.due_at):
            self.read_before_next_claim()
            await self.refresh()
            found = await self.cache.get(job.account)
        return found

    async def park(
        self, job: Job, version: int, error: DeliveryError, *, account_version: int | None = None
    ) -> None:
        """The job waits for a person (``parked_version``: the account version it waits to change);
        with ``account_version``, the account is parked too, in the same transaction."""
        async with self.store.tx() as conn:
            if account_version is not None:
                await self.accounts.park(conn, job.account, account_version)
            fresh = await self.outcomes.fresh(conn, job)
            await self.store.transition(
                conn, fresh, S.NEEDS_ATTENTION, owner=self.outcomes.owner, parked_version=version, error=error
            )
        if account_version is not None:  # seen at once by the next claim, before the next refresh
            self.read_before_next_claim()
        log.warning("account parked: job needs attention", extra=job.log_extra())

    async def resume_parked(self) -> None:
        """Jobs parked on an account whose credentials changed since go back to ``scheduled``
        (``held`` while a hold covers them)."""
        versions = await self.accounts.versions()
        async with self.store.engine.connect() as conn:  # read first: a write lock only when needed
            parked = await self.store.parked(conn)
        if not any(_changed_since_parked(job, versions) is not None for job in parked):
            return
        async with self.store.tx() as conn:
            for job in await self.store.parked(conn):
                version = _changed_since_parked(job, versions)
                if version is None:
                    continue
                note = f"account {job.account} changed (version {version}): trying again"
                again = Changes(due_at=utcnow(), parked_version=None, error=None)
                state, changes = await scheduled_unless_held(self.store, conn, job, note, again)
                await self.store.transition(conn, job, state, **changes)
                log.info("account changed: job resumes", extra=job.log_extra())
                # The claim must see the new version too: with the cache's older (parked) one it
                # would park the job again at once (seen under load in the e2e expired-token test).
                self.read_before_next_claim()
                self.wake.set()

    def check_when_due(self, now: float) -> None:
        """Every ``publisher_account_check_seconds`` (first at start), in the background."""
        if now - self._last_check < self.settings.publisher_account_check_seconds:
            return
        if self._checker is not None and not self._checker.done():
            return
        self._last_check = now
        self._checker = asyncio.create_task(self._check_logged(), name="account-check")

    def stop_checking(self) -> None:
        if self._checker is not None:
            self._checker.cancel()

    async def _check_logged(self) -> None:
        try:
            await self.check_accounts()
        except Exception as e:
            log_failure(log, e, "checking accounts failed")

    async def check_accounts(self) -> None:
        """``adapter.check_account`` for each account not parked; a reason parks it with that reason."""
        for name, current in (await self.accounts.versions()).items():
            if current.parked:
                continue
            try:
                found = await self.accounts.get(name)
            except OptionsTamperedError as e:  # parked by the read itself
                log.warning("%s", e)
                continue
            if found is None:
                continue
            try:
                reason = await self.adapter.check_account(found.account)
            except Exception:
                log.exception("checking account %s failed", name)
                continue
            if reason:
                async with self.store.tx() as conn:
                    flagged = await self.accounts.update(name, options={ATTENTION: reason}, conn=conn)
                    await self.accounts.park(conn, name, flagged)
                log.warning("account %s needs attention: %s", name, reason)
            elif found.account.options.get(ATTENTION):
                await self.accounts.update(name, options={ATTENTION: ""})

"""A correction's link step (made at intake by ``corrections.py``): one platform call that links the
correction to the original this account published, never made twice.

Before the call the step reads the job store: the original's newest version online on the same
account (the adapter gets its ``PublishResult``: remote id, permalink), and the correction's own post
there. Either still on its way: the step waits. The original never published (no job, failed,
cancelled, retracted): the step ends ``cancelled`` with ``ORIGINAL_NOT_PUBLISHED``. ``publishing``
is committed before the call; after an interruption ``find_correction_link`` decides, as
``find_existing`` does for a post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from loa.channels import Account, AuthError, ChannelError, PermanentError, PublishResult
from loa.channels.corrections import ORIGINAL_NOT_PUBLISHED, CorrectionLink, base_account
from loa.events import DEFAULT_TIMEZONE, utcnow
from loa.publisher.answers import AnswerWriter, call_host
from loa.publisher.job import Job
from loa.publisher.lifecycle import S, attempt_started
from loa.publisher.ratelimit import AccountBuckets
from loa.publisher.recovery import still_in_doubt
from loa.publisher.worker import JobWorker

log = logging.getLogger(__name__)

WAIT_SECONDS = 2.0
"""How soon a link step looks again while the original or the correction is still on its way."""
ON_THE_WAY = frozenset({S.RECEIVED, S.SCHEDULED, S.PUBLISHING, S.RETRYING, S.HELD, S.NEEDS_ATTENTION})
"""A post in these states may still go online: the link step waits for it."""


def _newest_online(jobs: list[Job]) -> PublishResult | None:
    online = [j.result for j in jobs if j.result is not None and j.state is S.PUBLISHED]
    return online[-1] if online else None


@dataclass(eq=False)
class Linking(JobWorker):
    answers: AnswerWriter
    buckets: AccountBuckets

    async def run(self, job: Job) -> None:
        """Drive one claimed link step: make the link, or settle one in doubt."""
        account = await self._account(job)
        if account is None:
            return
        if job.state is S.PUBLISHING:
            await self._in_doubt(job, account)
            return
        link = await self._references(job)
        if isinstance(link, str):
            await self.outcomes.move(job, S.CANCELLED, due_at=None, note=link)
            log.info("link step ended: %s", link, extra=job.log_extra())
            return
        wait = WAIT_SECONDS if link is None else self.buckets.try_take(account.name)
        if link is None or wait > 0:
            await self.outcomes.defer(job, wait)
            return
        async with self.store.tx() as conn:
            fresh = await self.outcomes.fresh(conn, job)
            expires = utcnow() + timedelta(seconds=self.settings.publisher_lease_seconds)
            changes = attempt_started(fresh, self.outcomes.owner, expires)
            job = await self.store.transition(conn, fresh, S.PUBLISHING, owner=self.outcomes.owner, **changes)
        await self._call(job, link, account)

    async def _account(self, job: Job) -> Account | None:
        name = base_account(job.account)
        found = await self.accounts.get(name)
        if found is None:
            error = PermanentError(f"account {name} is not configured for channel {job.channel}")
            await self.outcomes.fail(job, error)
            return None
        return found.account

    async def _references(self, job: Job) -> CorrectionLink | str | None:
        """The link to make; None: the original or the correction is still on its way; a str: why
        the step ends (the original never went online on this account)."""
        assert job.post is not None, "a link step always carries its post"
        account = base_account(job.account)
        async with self.store.tx() as conn:
            originals = await self.store.versions(conn, str(job.post.payload["corrects"]), account)
            own = await self.store.versions(conn, job.content_id, account)
        original = _newest_online(originals)
        if original is None:
            return None if any(j.state in ON_THE_WAY for j in originals) else ORIGINAL_NOT_PUBLISHED
        if any(j.state in ON_THE_WAY for j in own):
            return None
        return CorrectionLink(
            post=job.post,
            original=original,
            correction=_newest_online(own),
            corrected_on=utcnow().astimezone(DEFAULT_TIMEZONE).date(),
        )

    async def _call(self, job: Job, link: CorrectionLink, account: Account) -> None:
        """``publishing`` is committed, and with it what is sent: call the platform once, then
        record its answer."""
        assert job.post is not None
        host = call_host(self.adapter, account)
        try:
            result = await self.adapter.link_correction(link, account)
        except (AuthError, PermanentError) as e:
            await self.outcomes.fail(job, e, host)
            return
        except Exception as e:  # TransientError, and anything the adapter failed to map
            await self.outcomes.retry(job, e, host)
            return
        await self.answers.record(job, result, None, host)

    async def _in_doubt(self, job: Job, account: Account) -> None:
        """``publishing`` after an interruption: ask the platform before linking again."""
        log.warning("link step in doubt after an interruption: asking the platform", extra=job.log_extra())
        link = await self._references(job)
        existing: PublishResult | None = None
        if isinstance(link, CorrectionLink):
            try:
                existing = await self.adapter.find_correction_link(link, account)
            except ChannelError as e:
                async with self.store.tx() as conn:
                    await still_in_doubt(conn, self, job, e)
                return
        if existing is not None:
            note = "found on the platform after an interruption"
            await self.answers.record(job, existing, note, call_host(self.adapter, account))
            return
        note = "not on the platform after an interruption: linking again"
        await self.outcomes.move(job, S.RETRYING, due_at=utcnow(), note=note)

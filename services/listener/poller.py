"""The polling loop: claim due reads, make each through its channel's reader, publish what it found.

A claimed row is one kind of read of one post (``schedule.Read``): its figures (``reader.read``, sent
as ``engagement.observed``) or its comments (``reader.read_comments``, sent as ``comments.observed``
when it lists any), each moved along its own table. Both kinds share the account's gates and the
reader's quota count.

Within each platform's limits: a reader's ``TransientError`` with a ``retry_at`` (X's
``x-rate-limit-reset``, Facebook's usage headers, YouTube's quota reset) or an observation's
``slow_down_until`` closes that account's gate until then, and every due post of the account waits
for it without a call (no attempt spent). Other transient errors back off with the publishers' rule
(``loa.publisher.backoff.retry_time``: full jitter, never before the platform's reset). Refused
credentials wait ``LOA_LISTENER_AUTH_WAIT_S``; a post the platform no longer has is not followed.
Comments go out on the same topic with the same key. What a read found goes to Kafka before the
store moves the row on: a crash between them sends it twice (the tracker keeps one), never none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

from loa.channels import Account, AuthError, ChannelError, PermanentError, TransientError
from loa.channels.engagement import EngagementReader
from loa.events import Comments, Engagement, utcnow
from loa.events.engagement import COMMENTS_PER_EVENT
from loa.publisher.backoff import retry_time
from services.listener.schedule import Read, Schedule
from services.listener.settings import ListenerSettings
from services.listener.store import Followed, FollowedStore

log = logging.getLogger(__name__)
NO_ACCOUNT_WAIT = timedelta(minutes=10)
Emit = Callable[[Engagement | Comments], Awaitable[None]]


class AccountSource(Protocol):
    """Where the accounts' read credentials come from (``accounts.Accounts``: the job stores)."""

    async def get(self, channel: str, name: str) -> Account | None: ...


class Gates:
    """Per (channel, account): no platform call before this time."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], datetime] = {}

    def close_until(self, channel: str, account: str, until: datetime) -> None:
        key = (channel, account)
        self._until[key] = max(until, self._until.get(key, until))

    def closed_until(self, channel: str, account: str, now: datetime) -> datetime | None:
        until = self._until.get((channel, account))
        return until if until is not None and until > now else None


class PollerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter(
            "loa_listener_polls",
            "Reads of a post by kind (figures, comments) and outcome",
            ["channel", "kind", "outcome"],
            registry=self.registry,
        )


class Poller:
    def __init__(
        self,
        settings: ListenerSettings,
        store: FollowedStore,
        readers: Mapping[str, EngagementReader],
        accounts: AccountSource,
        emit: Emit,
        metrics: PollerMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.schedules: dict[Read, Schedule] = settings.schedules()
        self.tables: dict[str, dict[Read, Schedule]] = {
            channel: {
                kind: table
                for kind, table in self.schedules.items()
                if kind is Read.FIGURES or reader.lists_comments
            }
            for channel, reader in readers.items()
        }
        """Per channel with a reader, the reads it makes and their schedules (the website's reader
        lists no comments: its posts have a figures read only)."""
        self.store = store
        self.readers = readers
        self.accounts = accounts
        self.emit = emit
        self.metrics = metrics or PollerMetrics()
        self.gates = Gates()
        self.owner = f"listener-{uuid.uuid4().hex[:12]}"
        self.wake = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.listener_concurrency)

    async def run(self) -> None:
        """Until cancelled: claim what is due, poll it, sleep until the next due time (or a wake)."""
        lease = timedelta(seconds=self.settings.listener_lease_s)
        while True:
            try:
                claimed = await self.store.claim(self.owner, limit=self.settings.listener_batch, lease=lease)
                if claimed:
                    await asyncio.gather(*(self.poll_in_slot(post) for post in claimed))
                    continue
                await self._sleep()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store is down: try again shortly, never die
                log.exception("listener round failed")
                await asyncio.sleep(self.settings.listener_idle_s)

    async def _sleep(self) -> None:
        idle = self.settings.listener_idle_s
        due = await self.store.next_due()
        wait = idle if due is None else min(idle, max((due - utcnow()).total_seconds(), 0.05))
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), wait)

    async def poll_in_slot(self, post: Followed) -> None:
        """``poll`` within the concurrency limit; an unexpected error is logged, never raised."""
        async with self._slots:
            try:
                await self.poll(post)
            except Exception:
                log.exception("poll of %s on %s/%s failed", post.content_id, post.channel, post.account)

    async def poll(self, post: Followed) -> str:
        """Read one post and move it along its schedule; returns the outcome (for tests and /metrics)."""
        now = utcnow()
        outcome = await self._poll(post, now)
        self.metrics.polls.labels(post.channel, post.kind.value, outcome).inc()
        return outcome

    async def _poll(self, post: Followed, now: datetime) -> str:
        gate = self.gates.closed_until(post.channel, post.account, now)
        if gate is not None:
            await self.store.deferred(post, self.owner, gate, failed=False)
            return "waiting_for_limit"
        reader = self.readers.get(post.channel)
        account = await self.accounts.get(post.channel, post.account) if reader else None
        if reader is None or account is None:
            await self.store.deferred(post, self.owner, now + NO_ACCOUNT_WAIT, failed=True)
            return "no_account"
        try:
            if post.kind is Read.COMMENTS:
                seen = await reader.read_comments(account, post.external_id)
            else:
                seen = await reader.read(account, post.external_id)
        except ChannelError as e:
            return await self._failed(post, e, now)
        observed_at = utcnow()
        if post.kind is Read.FIGURES:
            await self.emit(
                Engagement(
                    content_id=post.content_id,
                    version=post.version,
                    channel=post.channel,
                    account=post.account,
                    external_id=post.external_id,
                    observed_at=observed_at,
                    metrics=dict(seen.metrics),
                )
            )
        elif seen.comments:
            await self.emit(
                Comments(
                    content_id=post.content_id,
                    version=post.version,
                    channel=post.channel,
                    account=post.account,
                    external_id=post.external_id,
                    observed_at=observed_at,
                    comments=list(seen.comments)[:COMMENTS_PER_EVENT],
                )
            )
        if seen.slow_down_until is not None:
            self.gates.close_until(post.channel, post.account, seen.slow_down_until)
        following = self.schedules[post.kind].next_poll(post.published_at, observed_at, after=post.step)
        step, at = following if following else (None, None)
        await self.store.polled(post, self.owner, step, at)
        return "read"

    async def _failed(self, post: Followed, error: ChannelError, now: datetime) -> str:
        where = f"{post.content_id} on {post.channel}/{post.account}"
        if isinstance(error, PermanentError):
            log.info("stopped following %s: %s", where, error)
            await self.store.stop(post.content_id, post.channel, post.account, f"gone: {error}"[:200])
            return "gone"
        if isinstance(error, AuthError):
            log.warning("credentials refused reading %s: %s", where, error)
            until = now + timedelta(seconds=self.settings.listener_auth_wait_s)
            await self.store.deferred(post, self.owner, until, failed=True)
            return "auth"
        retry_at = error.retry_at if isinstance(error, TransientError) else None
        if retry_at is not None:
            self.gates.close_until(post.channel, post.account, retry_at)
        until = retry_time(
            now,
            post.attempt + 1,
            base=self.settings.listener_retry_base_s,
            cap=self.settings.listener_retry_cap_s,
            retry_at=retry_at,
        )
        log.info(
            "reading %s failed (%s), again at %s: %s", where, error.error_class, until.isoformat(), error
        )
        await self.store.deferred(post, self.owner, until, failed=True)
        return "rate_limited" if retry_at is not None else "transient"

"""Intake: content events become jobs (or fail at once); updates, retractions and ops commands.

Everything a message changes is committed before its offset is: redelivery only meets the
unique key (content id, version, channel, account) and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from loa.channels import Account, ChannelAdapter, ChannelError, Post, TransientError
from loa.events import (
    CancelDelivery,
    Content,
    DeliveryError,
    DeliveryState,
    ErrorClass,
    Retraction,
    RetryDelivery,
    Target,
    utcnow,
)
from loa.publisher.accounts import AccountStore
from loa.publisher.limits import check_limits
from loa.publisher.store.codec import error_from_exception, make_error
from loa.publisher.store.jobs import PENDING, Job, JobStore

log = logging.getLogger(__name__)

S = DeliveryState
RETRACTED_STATES = frozenset({S.RETRACTING, S.RETRACTED, S.RETRACT_FAILED})


class Intake:
    def __init__(
        self,
        adapter: ChannelAdapter,
        store: JobStore,
        accounts: AccountStore,
        on_due: Callable[[], None] = lambda: None,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.accounts = accounts
        self.channel = adapter.name
        self._on_due = on_due

    # ---- content.approved / content.updated ---------------------------------------------------

    async def accept(self, content: Content) -> None:
        """Take in every target of this channel (approved and updated contents alike)."""
        for target in content.targets_of(self.channel):
            await self._accept_target(content, target)

    async def _accept_target(self, content: Content, target: Target) -> None:
        extra = {
            "content_id": content.id,
            "version": content.version,
            "channel": self.channel,
            "account": target.account,
        }
        if await self._already_known(content, target.account):
            log.info("already known (redelivery or older version): ignored", extra=extra)
            return
        post, error = await self._render(content, target)
        now = utcnow()
        due = content.publish_at if content.publish_at and content.publish_at > now else now
        if post is not None and self.adapter.supports_native_scheduling:
            due = now  # the platform holds it until post.due_at
        async with self.store.tx() as conn:
            existing = await self.store.versions(conn, content.id, target.account)
            if any(j.version >= content.version for j in existing):
                return
            if any(j.retract_requested or j.state in RETRACTED_STATES for j in existing):
                log.warning("content was retracted: this version is not published", extra=extra)
                return
            for old in existing:
                if old.state in PENDING and not old.native:
                    await self.store.transition(
                        conn, old, S.CANCELLED, due_at=None, note=f"replaced by version {content.version}"
                    )
            has_online = any(j.result is not None or j.state is S.PUBLISHING for j in existing)
            job = await self.store.create(
                conn,
                content_id=content.id,
                version=content.version,
                account=target.account,
                operation="update" if has_online else "publish",
                post=post,
                state=S.SCHEDULED if error is None else S.FAILED,
                due_at=due if error is None else None,
                error=error,
            )
        if job is not None and error is None:
            log.info("scheduled for %s", due.isoformat(), extra=extra)
            if due <= utcnow():
                self._on_due()
        elif job is not None:
            log.warning("cannot be published: %s", error.message if error else "", extra=extra)

    async def _already_known(self, content: Content, account: str) -> bool:
        async with self.store.tx() as conn:
            return any(
                j.version >= content.version for j in await self.store.versions(conn, content.id, account)
            )

    async def _render(self, content: Content, target: Target) -> tuple[Post | None, DeliveryError | None]:
        """The post, or why it can never go (unknown account, a limit, the adapter's refusal)."""
        found = await self.accounts.get(target.account)
        if found is None:
            return None, make_error(
                ErrorClass.PERMANENT,
                f"account {target.account!r} is not configured for channel {self.channel} "
                f"(add it with: loa accounts add {self.channel} {target.account} ...)",
                code="unknown_account",
            )
        account: Account = found[0]
        try:
            post = await self.adapter.render(content, target, account)
            check_limits(post, self.adapter.limits)
        except TransientError:
            raise  # e.g. the media store is down: the message comes again
        except ChannelError as e:
            return None, error_from_exception(e)
        except Exception as e:  # an adapter bug must not make the message a poison pill
            log.exception("render failed", extra={"content_id": content.id, "channel": self.channel})
            return None, make_error(ErrorClass.PERMANENT, f"render failed: {e}", code=type(e).__name__)
        if post.due_at is None and content.publish_at is not None:
            post.due_at = content.publish_at
        return post, None

    # ---- content.retracted --------------------------------------------------------------------

    async def retract(self, retraction: Retraction) -> None:
        """Cancel what has not gone; take down what is online; flag what is in flight."""
        note = f"retracted by {retraction.requested_by}: {retraction.reason}"
        changed = False
        async with self.store.tx() as conn:
            by_account: dict[str, list[Job]] = {}
            for job in await self.store.versions(conn, retraction.id):
                by_account.setdefault(job.account, []).append(job)
            for jobs_of_account in by_account.values():
                online = [
                    j
                    for j in jobs_of_account
                    if j.result is not None and j.state in (S.PUBLISHED, S.SCHEDULED)
                ]
                newest_online = online[-1] if online else None
                for job in jobs_of_account:
                    if job is newest_online:
                        await self.store.transition(
                            conn,
                            job,
                            S.RETRACTING,
                            due_at=utcnow(),
                            retract_requested=True,
                            note=note,
                            native=False,
                        )
                        changed = True
                    elif job.state in PENDING or (job.state is S.SCHEDULED and job.native):
                        await self.store.transition(
                            conn, job, S.CANCELLED, due_at=None, retract_requested=True, note=note
                        )
                    elif job.state is S.PUBLISHING:
                        await self.store.set_quietly(conn, job, owner=None, retract_requested=True)
        if changed:
            self._on_due()
        log.info("retraction taken in", extra={"content_id": retraction.id, "channel": self.channel})

    # ---- ops commands -------------------------------------------------------------------------

    async def command(self, command: RetryDelivery | CancelDelivery) -> None:
        ref = command.payload
        if ref.channel != self.channel:
            return
        extra = {"content_id": ref.content_id, "channel": ref.channel, "account": ref.account}
        async with self.store.tx() as conn:
            versions = await self.store.versions(conn, ref.content_id, ref.account)
            if not versions:
                log.warning("%s: no such delivery", command.type, extra=extra)
                return
            job = versions[-1]
            who = f"{command.type} by {ref.requested_by}" + (f": {ref.reason}" if ref.reason else "")
            if isinstance(command, CancelDelivery):
                if job.state not in PENDING:
                    log.warning("cannot cancel a delivery in state %s", job.state, extra=extra)
                    return
                await self.store.transition(conn, job, S.CANCELLED, due_at=None, note=who)
                return
            if job.state is S.RETRACT_FAILED:
                await self.store.transition(
                    conn, job, S.RETRACTING, due_at=utcnow(), error=None, note=who, attempt_floor=job.attempt
                )
            elif job.state in (S.FAILED, S.NEEDS_ATTENTION, S.RETRYING) and job.post is not None:
                await self.store.transition(
                    conn,
                    job,
                    S.SCHEDULED,
                    due_at=utcnow(),
                    error=None,
                    note=who,
                    attempt_floor=job.attempt,
                    parked_version=None,
                )
            else:
                log.warning("cannot retry a delivery in state %s (or never rendered)", job.state, extra=extra)
                return
        self._on_due()

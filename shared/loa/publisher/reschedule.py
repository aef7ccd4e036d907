"""``delivery.reschedule``: ops move a scheduled delivery to a new time (the planning calendar).

Only a job still ``scheduled`` that the platform does not hold (``native`` false: not handed to the
platform's own scheduler) moves. Both times move: the job's due time (when the dispatcher takes it)
and its rendered post's (the publish time the dispatcher and a natively scheduling adapter go by),
in one transaction. Anything
else (sent, being sent, held, natively scheduled, unknown) is logged and left as it is: the
tracker refuses those before sending, so this is the race where it changed meanwhile. Applied
under the channel's holds lock, so a hold arriving at the same time is applied before or after,
never half-way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import update

from loa.events import RescheduleDelivery
from loa.publisher.lifecycle import S
from loa.publisher.locks import holds_lock
from loa.publisher.store import codec
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import jobs

log = logging.getLogger(__name__)


class Rescheduler:
    def __init__(self, store: JobStore, on_due: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.channel = store.channel
        self._on_due = on_due

    async def apply(self, command: RescheduleDelivery) -> bool:
        """True if the delivery moved to ``command.at``."""
        ref = command.payload
        if ref.channel != self.channel:
            return False
        extra = {"content_id": ref.content_id, "channel": ref.channel, "account": ref.account}
        async with holds_lock(self.store.engine, self.channel), self.store.tx() as conn:
            versions = await self.store.versions(conn, ref.content_id, ref.account)
            job = versions[-1] if versions else None
            if job is None or job.state is not S.SCHEDULED or job.native or job.post is None:
                why = "no such delivery" if job is None else "natively scheduled" if job.native else job.state
                log.warning("delivery.reschedule: not a scheduled delivery (%s)", why, extra=extra)
                return False
            who = f"{command.type} by {ref.requested_by}" + (f": {ref.reason}" if ref.reason else "")
            await self.store.transition(conn, job, S.SCHEDULED, due_at=command.at, note=who)
            post = codec.post_to_json(replace(job.post, due_at=command.at))
            await conn.execute(update(jobs).where(jobs.c.id == job.id).values(post=post))
        log.info("delivery.reschedule: due at %s", command.at.isoformat(), extra=extra)
        self._on_due()
        return True

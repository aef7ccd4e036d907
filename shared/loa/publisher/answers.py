"""Writing what the platform answered: answers arriving together share one transaction."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import NamedTuple

from loa.channels import Account, ChannelAdapter, PublishResult
from loa.channels.scheduling import whole_second_after
from loa.events import utcnow
from loa.events.delivery import HOST_MAX, HOST_PATTERN
from loa.publisher.job import Job, LostJobError
from loa.publisher.lifecycle import Changes, Move, S
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.outage import is_store_outage

log = logging.getLogger(__name__)
HOST = re.compile(HOST_PATTERN)

ANSWERS_PER_TX = 200
STORE_RETRY_SECONDS = 1.0
"""How often answers the platform gave are offered again to a job store that is down."""


class Answer(NamedTuple):
    job: Job
    result: PublishResult
    note: str | None
    host: str | None
    """Where the call went (``ChannelAdapter.target_host``), recorded with the answer."""
    written: asyncio.Future[Job | None]
    """The job as written (None: it was no longer ours), or the error that kept it from being written."""


def call_host(adapter: ChannelAdapter, account: Account) -> str | None:
    """Where ``adapter``'s calls for ``account`` go (``ChannelAdapter.target_host``), if it is a
    ``host[:port]`` the delivery event accepts: an adapter's bug must not keep an answer unwritten."""
    host = adapter.target_host(account)
    if host is not None and (len(host) > HOST_MAX or not HOST.match(host)):
        log.warning("not a host[:port], not recorded: %.80r", host)
        return None
    return host


def _retraction_requested(_: Job) -> Changes:
    return {"due_at": utcnow(), "note": "retraction requested"}


def _answer_move(answer: Answer) -> Move:
    """``published``, or ``scheduled`` when the platform holds the post until its time."""
    result, note, host = answer.result, answer.note, answer.host
    if not result.scheduled_natively:
        return Move(
            answer.job, S.PUBLISHED, {"result": result, "native": False, "note": note, "target_host": host}
        )

    def native(fresh: Job) -> Changes:
        # Confirmed from the time the platform was given (whole seconds, rounded up), not before.
        due = fresh.post.due_at if fresh.post and fresh.post.due_at else None
        confirm_at = whole_second_after(due) if due is not None else utcnow()
        return {"result": result, "native": True, "due_at": confirm_at, "note": note, "target_host": host}

    return Move(answer.job, S.SCHEDULED, native)


class AnswerWriter:
    def __init__(self, store: JobStore, owner: str, metrics: RuntimeMetrics, wake: asyncio.Event) -> None:
        self.store = store
        self.owner = owner
        self.metrics = metrics
        self.wake = wake
        self._waiting: list[Answer] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self, job: Job, result: PublishResult, note: str | None = None, host: str | None = None
    ) -> None:
        """Record the platform's answer (and ``host``, where it came from); ``LostJobError`` if the
        job was no longer ours."""
        written: asyncio.Future[Job | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(Answer(job, result, note, host, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="answers-writer")
        new = await written
        if new is None:
            raise LostJobError(f"job {job.id} is no longer ours in state {job.state}")
        log.info("published", extra=new.log_extra())

    async def _write(self) -> None:
        """Group commit: write every answer waiting, in one transaction, until none is left.

        Not cancelled with the jobs that wait on it: an answer the platform gave is worth
        writing even during shutdown (else the job stays in doubt and ``find_existing`` settles it).
        """
        while self._waiting:
            batch, self._waiting = self._waiting[:ANSWERS_PER_TX], self._waiting[ANSWERS_PER_TX:]
            try:
                async with self.store.tx() as conn:
                    moves = [_answer_move(answer) for answer in batch]
                    moved = await self.store.transition_many(conn, moves, owner=self.owner)
                    # Retracted while the platform call was in flight: take it down next.
                    retract = [
                        Move(new, S.RETRACTING, _retraction_requested)
                        for new in moved
                        if new and new.retract_requested
                    ]
                    await self.store.transition_many(conn, retract, owner=None)
                if retract:  # due at once: the dispatcher takes them down now, not at its next poll
                    self.wake.set()
            except Exception as e:
                if is_store_outage(e):  # kept, in order, until the store is back
                    log.warning("job store unavailable (%s): %d answers wait", type(e).__name__, len(batch))
                    self._waiting[:0] = batch
                    await asyncio.sleep(STORE_RETRY_SECONDS)
                    continue
                for answer in batch:
                    if not answer.written.done():
                        answer.written.set_exception(e)
                continue
            for new, answer in zip(moved, batch, strict=True):
                if new is not None and new.state is S.PUBLISHED:
                    self.metrics.published.inc()
                if not answer.written.done():
                    answer.written.set_result(new)

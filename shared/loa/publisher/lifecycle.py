"""The delivery state machine: a job's states, the moves between them, and what a move may set.

This module owns it. Every state change of a job (intake, the claim, the dispatcher) goes through
``moved``, which refuses a move ``TRANSITIONS`` does not list; the job store only writes the
result (the row, its status event). The states are the delivery states of the event contract
(``loa.events.DeliveryState``: the tracker shows the same names), stored as their values in
``jobs.state``; they stay defined there because the events, not the publisher, own the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple, TypedDict

from loa.channels import PublishResult
from loa.events import DeliveryError, DeliveryState, Priority
from loa.publisher.job import Job

S = DeliveryState

TRANSITIONS: Mapping[S, Mapping[S, str]] = {
    S.RECEIVED: {
        S.SCHEDULED: "rendered within the channel's limits (intake, in the job's creating transaction)",
        S.FAILED: "can never go: unknown account, a limit, the adapter refused it (intake)",
        S.CANCELLED: "replaced by a newer version, retracted, or cancelled by ops",
        S.HELD: "rendered while a hold covers it (intake, in the job's creating transaction)",
    },
    S.SCHEDULED: {
        S.PUBLISHING: "due: the attempt is committed before the platform call (claim or dispatcher)",
        S.PUBLISHED: "a natively scheduled post found live on the platform (confirm)",
        S.NEEDS_ATTENTION: "its account is missing or parked: waits for a person",
        S.FAILED: "a natively scheduled post the platform refuses to confirm",
        S.CANCELLED: "replaced by a newer version, retracted, or cancelled by ops",
        S.RETRACTING: "retracted while natively scheduled: the platform holds it, take it down",
        S.HELD: "a hold covers it (a natively scheduled post is then pulled back from the platform)",
        S.SCHEDULED: "rescheduled by ops (delivery.reschedule, the planning calendar): a new due time",
    },
    S.PUBLISHING: {
        S.PUBLISHED: "the platform's answer (or find_existing after an interruption)",
        S.SCHEDULED: "the platform holds the post until its time (native scheduling): confirm later",
        S.RETRYING: "a transient error, or not found on the platform after an interruption",
        S.FAILED: "a permanent error, or the attempts are spent",
        S.NEEDS_ATTENTION: "the platform refused the account's credentials (AuthError parks it)",
        S.RETRACTING: "retracted while in flight: its work stopped, or nothing found after an interruption",
    },
    S.PUBLISHED: {
        S.RETRACTING: "retracted: the post online is taken down",
    },
    S.RETRYING: {
        S.PUBLISHING: "due again: the next attempt (claim or dispatcher)",
        S.SCHEDULED: "retried by ops: the attempts count again from now",
        S.NEEDS_ATTENTION: "its account is missing or parked: waits for a person",
        S.CANCELLED: "replaced by a newer version, retracted, or cancelled by ops",
        S.HELD: "a hold covers it: its next attempt waits for the release",
    },
    S.FAILED: {
        S.SCHEDULED: "retried by ops: the attempts count again from now",
        S.HELD: "retried by ops while a hold covers it: it waits for the release",
    },
    S.NEEDS_ATTENTION: {
        S.SCHEDULED: "its account's credentials changed, or retried by ops",
        S.CANCELLED: "replaced by a newer version, retracted, or cancelled by ops",
        S.HELD: "retried by ops while a hold covers it: it waits for the release",
    },
    S.CANCELLED: {},
    S.RETRACTING: {
        S.RETRACTING: "a transient error taking it down: tried again later (attempt + 1)",
        S.RETRACTED: "taken down (or it never reached the platform)",
        S.RETRACT_FAILED: "the platform refused to take it down, or the attempts are spent",
    },
    S.RETRACTED: {},
    S.RETRACT_FAILED: {
        S.RETRACTING: "retried by ops",
    },
    S.HELD: {
        S.SCHEDULED: "released (due in its original order), sent now or rescheduled by ops after a hold, "
        "or a native post the platform would not (or no longer could) pull back",
        S.HELD: "pulled back from the platform's schedule, or released with its time passed: waits for "
        "ops (send now, reschedule, cancel)",
        S.CANCELLED: "replaced by a newer version, retracted, or cancelled by ops",
        S.RETRACTING: "retracted before the pull-back: the platform still has it scheduled, take it down",
    },
}
"""From-state → {to-state: why the move exists}. A state without moves is final for good."""

PENDING = frozenset({S.RECEIVED, S.SCHEDULED, S.RETRYING, S.NEEDS_ATTENTION, S.HELD})
"""Not gone yet and not in flight: an update replaces these, a retraction cancels them."""

CLAIMABLE = (S.SCHEDULED, S.RETRYING, S.RETRACTING)
"""Waiting for the dispatcher: leased when due. Never ``held``: not claimed, whatever its due time."""

QUEUE_JUMPING = (S.RETRACTING,)
"""Work claimed before any normal backlog whatever its content's priority: a retraction's take-downs
(the pending jobs it reaches are cancelled by intake itself, in the transaction that reads it)."""


def jumps_the_queue(job: Job) -> bool:
    """Claimed before normal work, and free to use an account's reserved budget: urgent content,
    and a retraction's take-downs. The claim's SQL orders by the same rule (``store.claims.LANE``)."""
    return job.priority is Priority.URGENT or job.state in QUEUE_JUMPING


HOLDABLE = (S.SCHEDULED, S.RETRYING)
"""What a hold moves to ``held``: waiting for the dispatcher (a natively scheduled post too: it is
then pulled back). In flight (``publishing``) finishes; parked (``needs_attention``) waits for a
person anyway."""


class IllegalTransitionError(RuntimeError):
    """A move the table does not list: a bug in the caller, never a race (that is ``LostJobError``)."""

    def __init__(self, job_id: int, source: S, target: S) -> None:
        legal = ", ".join(sorted(TRANSITIONS[source])) or "none: it is final"
        super().__init__(f"job {job_id}: {source} → {target} is not a legal move (from {source}: {legal})")
        self.job_id = job_id
        self.source = source
        self.target = target


class Changes(TypedDict, total=False):
    """The job's fields a change may set besides its state (a misspelt one is a type error).

    Not ``post``: only ``save_progress`` rewrites it, outside the state machine.
    """

    operation: str
    due_at: datetime | None
    attempt: int
    attempt_floor: int
    result: PublishResult | None
    native: bool
    error: DeliveryError | None
    note: str | None
    retract_requested: bool
    parked_version: int | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    held_at: datetime | None
    target_host: str | None


class Move(NamedTuple):
    """One state change of a batch: the job as loaded, its new state, what else it sets (fixed
    values, or values computed from the job as stored when the batch writes)."""

    job: Job
    to: S
    changes: Changes | Callable[[Job], Changes]


def check(job_id: int, source: S, target: S) -> None:
    """Raise ``IllegalTransitionError`` unless the table lists ``source`` → ``target``."""
    if target not in TRANSITIONS[source]:
        raise IllegalTransitionError(job_id, source, target)


def moved(job: Job, to: S, changes: Changes) -> Job:
    """The job after a legal move to ``to``; its lease is released unless ``changes`` keeps it."""
    check(job.id, job.state, to)
    fields = Changes(lease_owner=None, lease_expires_at=None)
    fields.update(changes)
    return replace(job, state=to, **fields)


def changed(job: Job, changes: Changes) -> Job:
    """The job with fields changed and its state kept (a lease, a due time, a flag): no move."""
    return replace(job, **changes)


def failed_state(job: Job) -> S:
    """Where a job that cannot go on ends: a retraction fails as such, anything else as ``failed``."""
    return S.RETRACT_FAILED if job.state is S.RETRACTING else S.FAILED


def attempt_started(job: Job, owner: str, expires: datetime) -> Changes:
    """Into ``publishing``: the attempt is counted and the lease kept, before the platform call."""
    return {"attempt": job.attempt + 1, "error": None, "lease_owner": owner, "lease_expires_at": expires}

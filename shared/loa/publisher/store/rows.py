"""Job rows and ``Job`` values: one conversion each way, shared by every read and write."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from loa.channels import Post
from loa.events import DeliveryState, Priority
from loa.publisher.job import Job
from loa.publisher.store import codec
from loa.publisher.store.schema import jobs

NOTE_MAX = 500

WITHOUT_POST = [c for c in jobs.c if c.name != "post"]
"""Every column but ``post``: read where the post is known already, so its JSON is not parsed again."""

_UNSET: Any = object()


def job_from_row(row: Row[Any], post: Post | None = _UNSET) -> Job:
    """The job of a row; ``post``: the one already known, for a row read without it."""
    m = row._mapping
    if post is _UNSET:
        post = codec.post_from_json(m["post"]) if m["post"] else None
    return Job(
        id=m["id"],
        content_id=m["content_id"],
        version=m["version"],
        channel=m["channel"],
        account=m["account"],
        operation=m["operation"],
        state=DeliveryState(m["state"]),
        due_at=m["due_at"],
        attempt=m["attempt"],
        attempt_floor=m["attempt_floor"],
        post=post,
        result=codec.result_from_json(m["result"]) if m["result"] else None,
        native=bool(m["native"]),
        error=codec.error_from_json(m["error"]) if m["error"] else None,
        note=m["note"],
        retract_requested=bool(m["retract_requested"]),
        parked_version=m["parked_version"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        unit=m["unit"],
        held_at=m["held_at"],
        target_host=m["target_host"],
        priority=Priority(m["priority"]),
    )


def mutable_columns(job: Job) -> dict[str, Any]:
    """What a change may write. Not ``post``: it never changes in a transition (only
    ``save_progress`` rewrites it), so it is not serialised again on every change."""
    return {
        "operation": job.operation,
        "state": str(job.state),
        "due_at": job.due_at,
        "attempt": job.attempt,
        "attempt_floor": job.attempt_floor,
        "result": codec.result_to_json(job.result) if job.result else None,
        "native": job.native,
        "error": codec.error_to_json(job.error) if job.error else None,
        "note": job.note[:NOTE_MAX] if job.note else None,
        "retract_requested": job.retract_requested,
        "parked_version": job.parked_version,
        "lease_owner": job.lease_owner,
        "lease_expires_at": job.lease_expires_at,
        "held_at": job.held_at,
        "target_host": job.target_host,
    }

"""A delivery job as the publisher runtime sees it: one version of one content for one account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loa.channels import Post, PublishResult
from loa.events import DeliveryError, DeliveryState, Priority
from loa.events.delivery import delivery_id


class LostJobError(RuntimeError):
    """The job changed under us (another transaction moved it, or our lease was taken)."""


@dataclass(frozen=True)
class NewJob:
    """A job to create: ``received``, moved to ``state`` as it is written (one status event, ``state``'s)."""

    content_id: str
    version: int
    account: str
    post: Post | None
    state: DeliveryState
    due_at: datetime | None
    operation: str = "publish"
    error: DeliveryError | None = None
    note: str | None = None
    unit: str | None = None
    held_at: datetime | None = None
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True)
class Job:
    id: int
    content_id: str
    version: int
    channel: str
    account: str
    operation: str
    state: DeliveryState
    due_at: datetime | None
    attempt: int
    attempt_floor: int
    post: Post | None
    result: PublishResult | None
    native: bool
    error: DeliveryError | None
    note: str | None
    retract_requested: bool
    parked_version: int | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    unit: str | None = None
    """The content's unit, set at creation (None for jobs older than the holds)."""
    held_at: datetime | None = None
    """Since when a hold keeps it (``held``): its time passing after this makes it late."""
    target_host: str | None = None
    """``host[:port]`` the platform call went to (``ChannelAdapter.target_host``), once answered."""
    priority: Priority = Priority.NORMAL
    """The content's (``urgent``: the urgent lane, ``lifecycle.jumps_the_queue``)."""

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.content_id, self.channel, self.account)

    @property
    def attempts_since_retry(self) -> int:
        return self.attempt - self.attempt_floor

    def log_extra(self) -> dict[str, Any]:
        return {
            "content_id": self.content_id,
            "version": self.version,
            "channel": self.channel,
            "account": self.account,
            "attempt": self.attempt,
            "state": str(self.state),
        }

"""When a post due later reaches its platform: one rule for the runtime and the adapters.

A platform that can hold a post (Facebook's ``scheduled_publish_time``, YouTube's ``publishAt``,
WordPress's ``future`` status) does so only inside a window of lead times, declared per account by
``ChannelAdapter.native_window``. Everything else is held by Loa's own scheduler until its time. A
post never goes out before its time: outside the window nothing reaches the platform early.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loa.channels.errors import TransientError

HANDOVER_SLACK = timedelta(seconds=5)
"""The runtime hands a post over natively only this far inside the minimum lead, so that the
adapter, which looks at the clock a moment later, still finds it inside (the two never disagree)."""


@dataclass(frozen=True)
class NativeWindow:
    """How far ahead a platform can hold a post and publish it at its time by itself."""

    min_lead: timedelta
    max_lead: timedelta | None = None
    """None: the platform documents no upper bound."""

    def __post_init__(self) -> None:
        if self.min_lead <= timedelta(0):
            raise ValueError(f"min_lead must be positive, not {self.min_lead}")
        if self.max_lead is not None and self.max_lead < self.min_lead:
            raise ValueError(f"max_lead {self.max_lead} is under min_lead {self.min_lead}")


def handover_at(due_at: datetime | None, now: datetime, window: NativeWindow | None) -> datetime:
    """When the runtime calls the platform for a post due at ``due_at``.

    No due time, or due already: now. Inside the platform's window: now (the platform holds it).
    Beyond the window's maximum: when the due time enters it. Under its minimum, or a platform that
    cannot hold posts: at the due time itself (Loa's own scheduler).
    """
    if due_at is None or due_at <= now:
        return now
    if window is None:
        return due_at
    lead = due_at - now
    if window.max_lead is not None and lead > window.max_lead:
        return due_at - window.max_lead
    if lead < window.min_lead + HANDOVER_SLACK:
        return due_at
    return now


def native_due(due_at: datetime | None, now: datetime, window: NativeWindow | None) -> datetime | None:
    """For an adapter about to call its platform: the time to hand to the platform's scheduler (in
    whole seconds, never before ``due_at``), or None to publish now (no due time, or due already).

    The runtime calls early only inside the window (``handover_at``); a post not due yet and outside
    it is refused with a ``TransientError`` rather than published early: the runtime's check before
    the next attempt then holds it until its time.
    """
    if due_at is None or due_at <= now:
        return None
    lead = due_at - now
    inside = window is not None and lead >= window.min_lead
    if window is not None and window.max_lead is not None and lead > window.max_lead + HANDOVER_SLACK:
        inside = False
    if not inside:
        raise TransientError(
            f"not due until {due_at.isoformat()} and outside the platform's scheduling window "
            f"({_describe(window)}): held until its time",
            code="not_due",
        )
    return whole_second_after(due_at)


def whole_second_after(when: datetime) -> datetime:
    """``when`` rounded up to a whole second: platforms take whole seconds (Facebook's
    ``scheduled_publish_time``, YouTube's ``publishAt``, WordPress's ``date_gmt``), and rounding down
    would publish up to a second early."""
    if when.microsecond == 0:
        return when
    return when.replace(microsecond=0) + timedelta(seconds=1)


def _describe(window: NativeWindow | None) -> str:
    if window is None:
        return "it cannot hold posts"
    upper = f"{window.max_lead}" if window.max_lead is not None else "no limit"
    return f"{window.min_lead} to {upper} ahead"

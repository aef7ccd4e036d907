"""The audit log: who did what, on what, from where, when, and whether Loa let them.

``record`` is the one call every action makes. Where the entry goes is the caller's ``sink``:
the tracker chains it into its ``audit_log`` at once (``AuditChain``); the ingest puts it in its
outbox, in the transaction of the act, for the tracker to chain from ``loa.audit.v1``.
"""

from __future__ import annotations

from typing import Protocol

from loa.access import Principal
from loa.events import ActorKind, AuditAction, AuditEntry, AuditOutcome, AuditRecorded

__all__ = ["AuditAction", "AuditOutcome", "AuditSink", "record"]

REASON_MAX = 2000
DETAIL_MAX = 500


class AuditSink(Protocol):
    producer: str
    """The service writing the entry (the envelope's ``producer``)."""

    async def write(self, event: AuditRecorded) -> None: ...


async def record(
    sink: AuditSink,
    who: Principal,
    action: AuditAction,
    *,
    outcome: AuditOutcome = AuditOutcome.OK,
    reason: str = "",
    content_id: str | None = None,
    version: int | None = None,
    delivery_id: str | None = None,
    account: str | None = None,
    unit: str | None = None,
    detail: str = "",
) -> AuditRecorded:
    """Record one act of ``who`` (ok, or refused with the reason) and return the event written."""
    entry = AuditEntry(
        actor=who.name,
        actor_kind=ActorKind(who.kind.value),
        address=who.address[:100],
        action=action,
        outcome=outcome,
        reason=reason[:REASON_MAX],
        content_id=content_id,
        version=version,
        delivery_id=delivery_id,
        account=account,
        unit=unit,
        detail=detail[:DETAIL_MAX],
    )
    event = AuditRecorded(payload=entry, producer=sink.producer)
    await sink.write(event)
    return event

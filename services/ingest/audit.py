"""The ingest's side of the audit log: its acts go to the tracker (the log's one writer) on
``loa.audit.v1`` through the ingest's outbox, so none is lost while Kafka is down.

An accepted act is recorded in the transaction that accepts it; a refused one (409, 413, 422...)
in a transaction of its own, by ``refusals_recorded`` around the route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from loa.access import Principal
from loa.access.requests import actor
from loa.audit import record
from loa.events import AuditAction, AuditOutcome, AuditRecorded, topics
from services.ingest.db import OutboxRow
from services.ingest.deps import DbDep, RelayDep, SettingsDep
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings

PRODUCER = "loa-ingest"
SUBJECT = "audit_subject"
"""``request.state`` attribute a route sets once it knows what the act is on (content id, version)."""


class OutboxAudit:
    """The sink of ``loa.audit.record`` in the ingest: an outbox row in the caller's transaction."""

    producer = PRODUCER

    def __init__(self, session: AsyncSession, settings: IngestSettings) -> None:
        self._session = session
        self._topic = settings.topic(topics.AUDIT)

    async def write(self, event: AuditRecorded) -> None:
        # key = the actor: one person's acts stay in order on one partition
        self._session.add(
            OutboxRow(topic=self._topic, key=event.payload.actor, payload=event.model_dump_json())
        )


def refusals_recorded(
    action: AuditAction, client_dependency: Callable[..., Any]
) -> Callable[..., AsyncIterator[None]]:
    """A route dependency recording the route's refusal (an ``ApiError`` below 500) as ``action``,
    refused with the error's code and message. FastAPI runs the client dependency once per
    request, so this is the same client the route was given."""

    async def dependency(
        request: Request,
        db: DbDep,
        settings: SettingsDep,
        relay: RelayDep,
        client: Principal = Depends(client_dependency),  # noqa: B008 (FastAPI's way)
    ) -> AsyncIterator[None]:
        try:
            yield
        except ApiError as e:
            if e.status < 500:
                subject: dict[str, Any] = getattr(request.state, SUBJECT, {})
                async with db.sessions() as session, session.begin():
                    reason = f"{e.code}: {e.message}"
                    sink = OutboxAudit(session, settings)
                    await record(
                        sink,
                        actor(client, request),
                        action,
                        outcome=AuditOutcome.REFUSED,
                        reason=reason,
                        **subject,
                    )
                relay.wake.set()
            raise

    return dependency

"""The per-unit "two-person" rule (``LOA_TWO_PERSON_UNITS``): a version submitted for such a unit
(or a unit below it) by someone who may not approve there waits in ``awaiting_approval`` until a
spokesperson of the unit approves it (``approvals.py``); only then does its event go to Kafka.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loa.access import Principal
from loa.access.policy import Action, Policy
from loa.events import Content
from services.ingest.db import AwaitingApproval
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings

AWAITING_APPROVAL = "awaiting_approval"


class TwoPerson:
    def __init__(self, settings: IngestSettings, policy: Policy) -> None:
        self.units = tuple(settings.two_person_units)
        self.policy = policy

    def applies(self, unit: str, submitter: Principal) -> bool:
        """Whether a version of ``unit`` from ``submitter`` must wait for another person's approval."""
        ruled = any(self.policy.units.contains(u, unit) for u in self.units)
        return ruled and not self.policy.may(submitter, Action.APPROVE, unit)

    async def hold(
        self,
        session: AsyncSession,
        settings: IngestSettings,
        content: Content,
        submitter: Principal,
        correlation_id: str | None,
    ) -> dict[str, Any]:
        """Keep the version until a decision, in the caller's transaction; the answer's body."""
        if await session.get(AwaitingApproval, (content.id, content.version)) is not None:
            why = f"version {content.version} of {content.id} already awaits approval"
            raise ApiError(409, "already_awaiting", why, [{"field": "payload.version", "reason": why}])
        session.add(
            AwaitingApproval(
                id=content.id,
                version=content.version,
                unit=content.unit,
                content=content.model_dump_json(),
                correlation_id=correlation_id,
                submitted_by=submitter.name,
            )
        )
        return {
            "id": content.id,
            "version": content.version,
            "status": AWAITING_APPROVAL,
            "approve_url": f"/api/v1/contents/{content.id}/versions/{content.version}/approve",
        }

"""What every request and the consumer share: settings, the engine, the broker, live changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.health import Readiness
from services.tracker.audit_log import AuditChain
from services.tracker.live import Changes
from services.tracker.metrics import TrackerMetrics
from services.tracker.sessions import Sessions
from services.tracker.settings import TrackerSettings


@dataclass
class Tracker:
    settings: TrackerSettings
    engine: AsyncEngine
    broker: KafkaBroker
    changes: Changes
    metrics: TrackerMetrics
    readiness: Readiness = field(default_factory=lambda: Readiness({}))
    """The tracker's own dependencies (``/readyz``)."""
    publishers: Readiness = field(default_factory=lambda: Readiness({}))
    """Each publisher's ``/readyz`` (``LOA_TRACKER_PUBLISHER_HEALTH``), shown on the dashboard."""
    subscribers: dict[str, Any] = field(default_factory=dict)
    """The Kafka subscribers by topic (unprefixed); empty when the tracker does not consume."""
    sessions: Sessions = field(init=False)
    """The dashboard's sign-ins, in the same database."""
    audit: AuditChain = field(init=False)
    """The audit log, which the tracker alone writes."""

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.engine)
        self.audit = AuditChain(self.engine)

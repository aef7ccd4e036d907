"""What every request and the consumer share: settings, the engine, the broker, live changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from services.tracker.live import Changes
from services.tracker.metrics import TrackerMetrics
from services.tracker.settings import TrackerSettings


@dataclass
class Tracker:
    settings: TrackerSettings
    engine: AsyncEngine
    broker: KafkaBroker
    changes: Changes
    metrics: TrackerMetrics
    subscribers: dict[str, Any] = field(default_factory=dict)
    """The Kafka subscribers by topic (unprefixed); empty when the tracker does not consume."""

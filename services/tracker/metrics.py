"""Prometheus metrics: deliveries by channel/state, approval → published latency, ingestion, lag."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from loa.events import DeliveryState
from services.tracker.ingest import Applied


class TrackerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Gauge(
            "loa_tracker_deliveries",
            "Deliveries by channel and state",
            ["channel", "state"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "loa_publish_latency_seconds",
            "End-to-end latency from approval (or due time) to published",
            ["channel"],
            buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600),
            registry=self.registry,
        )
        self.events = Counter(
            "loa_tracker_status_events", "Status events consumed", ["outcome"], registry=self.registry
        )
        self.dead_lettered = Counter(
            "loa_tracker_dead_lettered", "Invalid messages sent to a DLQ", ["topic"], registry=self.registry
        )
        self.consumer_lag = Gauge(
            "loa_tracker_consumer_lag",
            "Events on the topic not yet written to the database (log end - committed offset)",
            ["topic"],
            registry=self.registry,
        )
        self.transitions = Counter(
            "loa_tracker_transitions",
            "Delivery state changes applied",
            ["channel", "state"],
            registry=self.registry,
        )

    def observe(self, applied: Applied) -> None:
        self.events.labels("stale").inc(applied.stale)
        self.events.labels("applied").inc(len(applied.transitions))
        for t in applied.transitions:
            d = t.status.payload
            self.transitions.labels(d.channel, d.state.value).inc()
            if d.state is DeliveryState.PUBLISHED:
                start = d.due_at or t.approved_at
                if start is not None:
                    self.latency.labels(d.channel).observe(
                        max(0.0, (t.status.occurred_at - start).total_seconds())
                    )

    def set_counts(self, counts: list[tuple[str, str, int]]) -> None:
        self.deliveries.clear()
        for channel, state, n in counts:
            self.deliveries.labels(channel, state).set(n)

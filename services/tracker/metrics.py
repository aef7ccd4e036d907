"""Prometheus metrics: deliveries by channel/state, approval → published latency, ingestion, lag, and
the current month's leadership report per unit and channel."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from loa.events import DeliveryState
from services.tracker.ingest import Applied
from services.tracker.reports import Report

REPORT_COUNTS = ("deliveries", "published", "on_time", "failed", "retracted")
"""The report's counts on ``/metrics``, each a gauge ``loa_report_month_<count>{unit,channel}``."""
REPORT_LISTENING = {
    "comments": "comments_received",
    "comments_answered": "comments_answered",
    "alerts": "alerts",
    "alerts_answered": "alerts_answered",
}
"""The report's comment and alert counts: ``loa_report_month_<name>{unit,channel}`` ← the row's field."""
REPORT_MEDIANS = {"comment": "comment_answer_median_s", "alert": "alert_answer_median_s"}
"""``loa_report_month_<name>_answer_median_seconds{unit,channel}`` ← the row's field (absent: none
answered)."""


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

        labels = ["unit", "channel"]
        self.report_counts = {
            name: Gauge(
                f"loa_report_month_{name}",
                f"This month's report (Asia/Ho_Chi_Minh): {name.replace('_', ' ')}, by due time",
                labels,
                registry=self.registry,
            )
            for name in REPORT_COUNTS
        }
        self.report_on_time_ratio = Gauge(
            "loa_report_month_on_time_ratio",
            "This month's report: published on time / published (absent when nothing was published)",
            labels,
            registry=self.registry,
        )
        self.report_engagement = Gauge(
            "loa_report_month_engagement",
            "This month's report: the latest engagement figure of each published post, summed",
            [*labels, "metric"],
            registry=self.registry,
        )
        self.report_listening = {
            name: Gauge(
                f"loa_report_month_{name}",
                f"This month's report: {name.replace('_', ' ')} (comments by when they were written, "
                "alerts by when they were raised)",
                labels,
                registry=self.registry,
            )
            for name in REPORT_LISTENING
        }
        self.report_medians = {
            name: Gauge(
                f"loa_report_month_{name}_answer_median_seconds",
                f"This month's report: median seconds from a {name} to its first answer or hide "
                "(absent when none was answered)",
                labels,
                registry=self.registry,
            )
            for name in REPORT_MEDIANS
        }
        self.report_refreshed = float("-inf")
        """When (``time.monotonic``) the report gauges were last computed."""

    def set_report(self, report: Report) -> None:
        """The report's rows as gauges; a unit or channel no longer in it disappears."""
        for gauge in (
            *self.report_counts.values(),
            *self.report_listening.values(),
            *self.report_medians.values(),
            self.report_on_time_ratio,
            self.report_engagement,
        ):
            gauge.clear()
        for row in report.rows:
            for name, gauge in self.report_counts.items():
                gauge.labels(row.unit, row.channel).set(getattr(row, name))
            for name, gauge in self.report_listening.items():
                gauge.labels(row.unit, row.channel).set(getattr(row, REPORT_LISTENING[name]))
            for name, gauge in self.report_medians.items():
                if (median_s := getattr(row, REPORT_MEDIANS[name])) is not None:
                    gauge.labels(row.unit, row.channel).set(median_s)
            if row.on_time_rate is not None:
                self.report_on_time_ratio.labels(row.unit, row.channel).set(row.on_time_rate)
            figures = {"reactions": row.reactions, "comments": row.comments, "shares": row.shares}
            if row.audience_metric is not None:
                figures[row.audience_metric] = row.audience
            for metric, value in figures.items():
                if value is not None:
                    self.report_engagement.labels(row.unit, row.channel, metric).set(value)

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

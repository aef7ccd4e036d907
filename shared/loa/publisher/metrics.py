"""Prometheus metrics of one publisher, and its health (``/livez``, ``/readyz``) + ``/metrics`` HTTP app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loa.events import DeliveryState
from loa.health import Readiness, health_routes


class RuntimeMetrics:
    """One registry per publisher process (tests run several in one interpreter)."""

    def __init__(self, channel: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"channel": channel}
        self.jobs = Gauge(
            "loa_publisher_jobs", "jobs by state", ["state"], registry=self.registry, namespace=""
        )
        self.publish_seconds = Histogram(
            "loa_publisher_publish_seconds",
            "time of one platform call (publish or update)",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.published = Counter("loa_publisher_published", "posts published", registry=self.registry)
        self.retries = Counter(
            "loa_publisher_retries",
            "attempts rescheduled after an error",
            ["error_class"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "loa_publisher_consumer_lag", "content events not yet taken in", registry=self.registry
        )
        self.outbox_pending = Gauge(
            "loa_publisher_outbox_pending",
            "status events not yet on the delivery topic",
            registry=self.registry,
        )
        self.outbox_too_large = Counter(
            "loa_publisher_outbox_too_large",
            "outbox rows Kafka refused as too large, skipped (a payload the archive then lacks)",
            registry=self.registry,
        )
        self.due_backlog = Gauge(
            "loa_publisher_due_backlog",
            "jobs due and not yet begun, as the intake gate last counted them",
            registry=self.registry,
        )
        self.intake_waiting = Gauge(
            "loa_publisher_intake_waiting",
            "1 while intake leaves new normal contents in Kafka (the due backlog is over its limit)",
            registry=self.registry,
        )
        self.info = Gauge("loa_publisher_info", "which channel this is", list(labels), registry=self.registry)
        self.info.labels(**labels).set(1)

    def set_job_counts(self, counts: dict[str, int]) -> None:
        for state in DeliveryState:
            self.jobs.labels(state=str(state)).set(counts.get(str(state), 0))


def http_app(metrics: RuntimeMetrics, readiness: Readiness) -> Starlette:
    """``/livez``, ``/readyz`` (``/healthz`` its alias) and ``/metrics``."""

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[*health_routes(lambda: readiness), Route("/metrics", metrics_endpoint)])

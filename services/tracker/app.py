"""The composition root: FastAPI app + Kafka consumers + alert sender, sharing one engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from loa.access.policy import Policy
from loa.access.tokens import TokenStore
from loa.consumer_lag import uncommitted
from loa.health import Readiness, database_probe, health_routes, http_probe, kafka_probe
from loa.kafka import make_broker
from loa.mode import mode_gauge
from loa.outages import answer_unexpected, error_response, handle_unexpected
from loa.web_security import harden
from services.tracker import (
    accounts_api,
    api,
    approvals,
    archive_api,
    calendar_api,
    calendar_feed_api,
    comments_api,
    connect,
    consumer,
    engagement_api,
    holds_api,
    incidents_api,
    press_lists_api,
    queries,
    recipients_api,
    reports_api,
    web,
)
from services.tracker.alerts import AlertSender
from services.tracker.auth import Authenticator, bearer_tokens
from services.tracker.context import Tracker
from services.tracker.db import make_engine, migrate
from services.tracker.installed_publishers import installed_publishers
from services.tracker.live import Changes
from services.tracker.login_throttle import LoginThrottle
from services.tracker.metrics import TrackerMetrics
from services.tracker.oidc import OidcClient
from services.tracker.settings import TrackerSettings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def _error(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> JSONResponse:
    return error_response(status, code, message, fields)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A dependency outage (PostgreSQL restarting) → 503 + Retry-After; anything else → a JSON 500.

    A browser asking for a dashboard page gets the 503 as a page that shows the dependencies.
    """
    response = await answer_unexpected(request, exc)
    wants_page = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        ("/api/", "/metrics", "/static/")
    )
    if response.status_code == 503 and wants_page:
        return await web.unavailable_page(request)
    return response


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [{"field": ".".join(str(p) for p in e["loc"]), "reason": str(e["msg"])} for e in exc.errors()]
    summary = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
    return _error(422, "invalid_request", summary[:2000], fields)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 401 and not request.url.path.startswith(("/api/", "/metrics")):
        return web.login_redirect(request)
    response = _error(exc.status_code, ERROR_CODES.get(exc.status_code, "error"), str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def create_app(settings: TrackerSettings | None = None) -> FastAPI:
    settings = settings or TrackerSettings()
    token_store = TokenStore.at(settings.tokens_database_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        health = settings.tracker_publisher_health
        # unset: the installed ones, listed by a child process (~0.7 s) while the tracker starts
        listing = asyncio.create_task(installed_publishers()) if health is None else None
        engine = make_engine(settings.database_url)
        await migrate(engine)
        await token_store.migrate()
        hooks = settings.alert_hooks()
        # per-batch "Received/Processed" lines go to debug: the consumer logs what matters itself
        broker = make_broker(settings, client_id="loa-tracker", log_level=logging.DEBUG)
        tracker = Tracker(settings, engine, broker, Changes(), TrackerMetrics())
        mode_gauge(tracker.metrics.registry, settings.mode)
        tracker.readiness = Readiness(
            {"kafka": kafka_probe(settings), "database": database_probe(engine)},
            about={"mode": settings.mode},  # `loa status` reads it here
        )
        if settings.tracker_consume:
            tracker.subscribers = consumer.register(
                broker, settings, engine, tracker.changes, tracker.metrics, hooks
            )
        await broker.start()
        urls = await listing if listing is not None else {c: str(u) for c, u in (health or {}).items()}
        tracker.publishers = Readiness({channel: http_probe(url) for channel, url in urls.items()})
        app.state.tracker = tracker
        sender = AlertSender(engine, hooks, settings.tracker_alert_max_attempts)
        alerts_task = asyncio.create_task(sender.run(settings.tracker_alert_poll_s)) if hooks else None
        log.info("tracker ready: consuming=%s, %d alert hooks", settings.tracker_consume, len(hooks))
        try:
            yield
        finally:
            if alerts_task:
                alerts_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await alerts_task
            await sender.close()
            if app.state.oidc is not None:
                await app.state.oidc.aclose()
            await broker.stop()
            await engine.dispose()
            await token_store.close()

    app = FastAPI(
        title="Loa tracker",
        version="1.0.0",
        description="Where every piece of content stands on every channel, and the actions ops need.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    harden(app)
    app.state.auth = Authenticator(bearer_tokens(settings, token_store), Policy(settings.unit_tree()))
    app.state.login_throttle = LoginThrottle()
    app.state.connects = connect.Connects()
    app.state.oidc = OidcClient(settings) if settings.oidc_issuer is not None else None
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(api.router)
    app.include_router(holds_api.router)
    app.include_router(accounts_api.router)
    app.include_router(connect.router)
    app.include_router(incidents_api.router)
    app.include_router(press_lists_api.router)
    app.include_router(recipients_api.router)
    app.include_router(approvals.router)
    app.include_router(engagement_api.router)
    app.include_router(comments_api.router)
    app.include_router(reports_api.router)
    app.include_router(calendar_api.router)
    app.include_router(archive_api.router)
    app.include_router(calendar_feed_api.router)
    app.include_router(web.router)
    app.include_router(approvals.pages)
    app.include_router(reports_api.pages)
    app.include_router(calendar_api.pages)
    app.include_router(archive_api.pages)
    app.include_router(comments_api.pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.router.routes.extend(health_routes(lambda: app.state.tracker.readiness))
    handle_unexpected(app, _unexpected)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        tracker: Tracker = request.app.state.tracker
        tracker.metrics.set_counts(await queries.delivery_counts(tracker.engine))
        await reports_api.refresh_gauges(tracker)

        async def read_lag(topic: str, subscriber: Any) -> None:
            try:
                lag = await uncommitted(subscriber.consumer, tracker.settings.topic(topic))
            except (TimeoutError, KafkaError):
                log.warning("consumer lag of %s unavailable", topic, exc_info=True)
                return
            if lag is not None:
                tracker.metrics.consumer_lag.labels(topic).set(lag)

        # at once: each read waits behind its consumer's held fetch (consumer.quiet_fetch)
        await asyncio.gather(*(read_lag(t, s) for t, s in tracker.subscribers.items()))
        return Response(generate_latest(tracker.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app

"""The ingest application: one composition root, built from settings (tests pass their own)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from loa.health import Readiness, database_probe, health_routes, kafka_probe, object_store_probe
from loa.media import MediaStore
from services.ingest import contents, errors, media
from services.ingest.auth import TokenBook
from services.ingest.db import IngestDb
from services.ingest.relay import OutboxRelay
from services.ingest.settings import IngestSettings


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    store = MediaStore(settings)
    db = IngestDb(settings.database_url)
    relay = OutboxRelay(db, settings)
    tokens = TokenBook(settings)
    readiness = Readiness(
        {
            "kafka": kafka_probe(settings.kafka_bootstrap),
            "object_store": object_store_probe(store.client, store.bucket),
            "database": database_probe(db.engine),
        }
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(store.ensure_buckets)
        await db.migrate()
        # Kafka is not needed to start: accepted events wait in the outbox until it answers.
        relaying = asyncio.create_task(relay.run(), name="ingest-outbox-relay")
        try:
            yield
        finally:
            await relay.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(relaying, timeout=10)
            await db.close()

    app = FastAPI(title="Loa ingest", version="1", lifespan=lifespan)
    errors.install(app)
    app.include_router(media.router(settings, store, tokens))
    app.include_router(contents.router(settings, store, tokens, db, relay))
    app.router.routes.extend(health_routes(lambda: readiness))

    app.state.settings = settings
    app.state.store = store
    app.state.db = db
    app.state.relay = relay
    app.state.readiness = readiness
    return app

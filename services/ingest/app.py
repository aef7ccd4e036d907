"""The ingest application: one composition root, built from settings (tests pass their own)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from loa.kafka import make_broker
from loa.media import MediaStore
from services.ingest import contents, errors, media
from services.ingest.auth import TokenBook
from services.ingest.db import IngestDb
from services.ingest.settings import IngestSettings


def create_app(settings: IngestSettings | None = None, broker: KafkaBroker | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    store = MediaStore(settings)
    db = IngestDb(settings.database_url)
    broker = broker or make_broker(settings, client_id="loa-ingest")
    tokens = TokenBook(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(store.ensure_buckets)
        await db.create_tables()
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            await db.close()

    app = FastAPI(title="Loa ingest", version="1", lifespan=lifespan)
    errors.install(app)
    app.include_router(media.router(settings, store, tokens))
    app.include_router(contents.router(settings, store, tokens, db, broker))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.state.settings = settings
    app.state.store = store
    app.state.db = db
    app.state.broker = broker
    return app

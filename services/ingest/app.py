"""The ingest application: one composition root, built from settings (tests pass their own).

The routes live at module level in their resource's module (``media``, ``contents``) and take what
they need through the typed dependencies of ``deps``; this factory only wires them to one
``Ingest`` (``app.state.ingest``), its lifespan and the error handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from loa.health import health_routes
from loa.web_security import harden
from services.ingest import approvals, contents, errors, media
from services.ingest.context import Ingest
from services.ingest.settings import IngestSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    ingest: Ingest = app.state.ingest
    store, db, relay = ingest.store, ingest.db, ingest.relay
    await asyncio.to_thread(store.ensure_buckets, store.bucket)
    await db.migrate()
    await ingest.tokens.store.migrate()
    # Kafka is not needed to start: accepted events wait in the outbox until it answers.
    relaying = asyncio.create_task(relay.run(), name="ingest-outbox-relay")
    ingest.retractions.start()
    try:
        yield
    finally:
        await ingest.retractions.stop()
        await relay.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(relaying, timeout=10)
        await db.close()
        await ingest.tokens.store.close()
        await ingest.targets.account_units.aclose()
        if ingest.tokens.people is not None:
            await ingest.tokens.people.verifier.aclose()


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    ingest = Ingest.build(settings or IngestSettings())
    app = FastAPI(title="Loa ingest", version="1", lifespan=lifespan)
    app.state.ingest = ingest
    errors.install(app)
    app.include_router(media.router)
    app.include_router(contents.router)
    app.include_router(approvals.router)
    app.router.routes.extend(health_routes(lambda: ingest.readiness))
    harden(app)
    return app

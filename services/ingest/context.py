"""What every request of the ingest shares, built once per app from its settings (tests pass their own)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from loa.health import Readiness, database_probe, kafka_probe, object_store_probe
from loa.media import MediaStore
from services.ingest.auth import TokenBook
from services.ingest.db import IngestDb
from services.ingest.relay import OutboxRelay
from services.ingest.settings import IngestSettings
from services.ingest.targets import Targets


@dataclass
class Ingest:
    settings: IngestSettings
    store: MediaStore
    db: IngestDb
    relay: OutboxRelay
    tokens: TokenBook
    targets: Targets
    readiness: Readiness
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One writer of contents per process; PostgreSQL rows are also locked."""

    @classmethod
    def build(cls, settings: IngestSettings) -> Ingest:
        store = MediaStore(settings)
        db = IngestDb(settings.database_url)
        readiness = Readiness(
            {
                "kafka": kafka_probe(settings),
                "object_store": object_store_probe(store.client, store.bucket),
                "database": database_probe(db.engine),
            }
        )
        return cls(
            settings,
            store,
            db,
            OutboxRelay(db, settings),
            TokenBook(settings),
            Targets(settings),
            readiness,
        )

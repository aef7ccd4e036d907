"""What every request of the ingest shares, built once per app from its settings (tests pass their own)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loa.access.bearer import BearerTokens
from loa.access.policy import Policy
from loa.access.tokens import TokenStore
from loa.health import Readiness, database_probe, kafka_probe, object_store_probe
from loa.media import MediaStore
from services.ingest.auth import bearer_tokens
from services.ingest.db import IngestDb
from services.ingest.relay import OutboxRelay
from services.ingest.retractions import RetractionListener
from services.ingest.settings import IngestSettings
from services.ingest.targets import Targets
from services.ingest.two_person import TwoPerson


@dataclass
class Ingest:
    settings: IngestSettings
    store: MediaStore
    db: IngestDb
    relay: OutboxRelay
    tokens: BearerTokens
    policy: Policy
    targets: Targets
    readiness: Readiness
    two_person: TwoPerson
    retractions: RetractionListener
    write_lock: asyncio.Lock
    """One writer of contents per process; PostgreSQL rows are also locked."""

    @classmethod
    def build(cls, settings: IngestSettings) -> Ingest:
        store = MediaStore(settings)
        db = IngestDb(settings.database_url)
        token_store = TokenStore.at(settings.tokens_database_url)
        policy = Policy(settings.unit_tree())
        readiness = Readiness(
            {
                "kafka": kafka_probe(settings),
                "object_store": object_store_probe(store.client, store.bucket),
                "database": database_probe(db.engine),
            }
        )
        write_lock = asyncio.Lock()
        return cls(
            settings,
            store,
            db,
            OutboxRelay(db, settings),
            bearer_tokens(settings, token_store),
            policy,
            Targets(settings),
            readiness,
            TwoPerson(settings, policy),
            RetractionListener(db, settings, write_lock),
            write_lock,
        )

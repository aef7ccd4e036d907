"""An ingest store made by release 0.1.0 (create_all, no migrations) is upgraded in place on start:
its contents, idempotent answers and unsent outbox rows are all kept; a second start changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.ingest.db import ContentRecord, IdempotentAnswer, IngestDb, OutboxRow, RetractionRecord
from tests.support.release_stores import create_release_store, insert_rows, snapshot

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 12, 3, 10, 30, 15, 123456, tzinfo=UTC)


async def test_a_store_of_release_0_1_0_is_upgraded_in_place(db_url: str) -> None:
    store = IngestDb(db_url)
    try:
        await create_release_store(store.engine, "ingest")
        await insert_rows(
            store.engine,
            {
                "ingest_contents": [
                    {
                        "id": "tin-1",
                        "version": 2,
                        "canonical_url": "https://x/tin-1",
                        "retracted": False,
                        "updated_at": WHEN,
                    },
                    {
                        "id": "tin-da-go",
                        "version": 1,
                        "canonical_url": "https://x/tin-da-go",
                        "retracted": True,
                        "updated_at": WHEN,
                    },
                ],
                "ingest_idempotency": [
                    {
                        "client": "cms",
                        "key": "k-1",
                        "request_hash": "ab" * 32,
                        "status": 202,
                        "body": '{"id": "tin-1"}',
                        "created_at": WHEN,
                    },
                ],
                "ingest_outbox": [
                    {
                        "topic": "loa.content.v1",
                        "key": "tin-1",
                        "payload": f'{{"v": {v}}}',
                        "created_at": WHEN,
                        "sent_at": WHEN if v == 1 else None,
                        "refused": None,
                    }
                    for v in (1, 2)
                ],
            },
        )

        await store.migrate()

        async with store.sessions() as session, session.begin():
            content = await session.get(ContentRecord, "tin-1")
            retractions = (await session.scalars(select(RetractionRecord))).all()
            answer = await session.get(IdempotentAnswer, ("cms", "k-1"))
            unsent = (await session.scalars(select(OutboxRow).where(OutboxRow.sent_at.is_(None)))).all()
            session.add(OutboxRow(topic="loa.content.v1", key="tin-2", payload="{}"))
        assert content is not None and (content.version, content.updated_at) == (2, WHEN)
        # the retraction the release recorded as a flag is kept as a fact, dated by its row
        assert [(r.content_id, r.retracted_at, r.retracted_by) for r in retractions] == [
            ("tin-da-go", WHEN, "(not recorded before release 0.2)")
        ]
        assert answer is not None and (answer.status, answer.body, answer.created_at) == (
            202,
            '{"id": "tin-1"}',
            WHEN,
        )
        assert [(row.id, row.payload, row.created_at) for row in unsent] == [(2, '{"v": 2}', WHEN)]
        async with store.sessions() as session:
            assert (await session.scalars(select(OutboxRow.id).where(OutboxRow.key == "tin-2"))).all() == [3]

        async with store.engine.connect() as conn:
            before = await snapshot(conn)
        await store.migrate()  # the next start
        async with store.engine.connect() as conn:
            assert await snapshot(conn) == before
    finally:
        await store.close()

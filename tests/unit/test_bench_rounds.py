"""How the alone benches count a publisher's rounds (``bench/webhook_alone.py``'s ``rounds``,
``bench/reference/store.py``'s ``progress``): from the times each transaction stamps on its rows. The
real job store and the reference's store write the rows, so a store that stamped each row with a
time of its own would make these counts wrong, and these tests fail. And how
``bench/webhook_by_rate.py`` splits a publisher's CPU a delivery into a cost per delivery and one
per round."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.reference.store import Answer, Row, Store, progress
from bench.webhook_alone import Rounds, rounds
from bench.webhook_by_rate import split
from loa.channels import Post, PublishResult
from loa.events import DeliveryState as S
from loa.events import utcnow
from loa.publisher.job import NewJob
from loa.publisher.lifecycle import Move
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore

pytestmark = pytest.mark.unit
TEXT = "Đà Nẵng công bố kết quả xử lý thông tin sai lệch về dự án cầu Thuận Phước."


def _new(n: int) -> NewJob:
    post = Post(content_id=f"c{n}", version=1, channel="webhook", account="a", marker=f"m{n}", texts=[TEXT])
    return NewJob(f"c{n}", 1, "a", post, S.SCHEDULED, utcnow())


async def test_rounds_count_the_job_stores_intake_answer_and_relay_transactions(tmp_path: Path) -> None:
    database = tmp_path / "jobs-webhook.db"
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    await migrate(engine)
    store = JobStore(engine, "webhook")
    try:
        for batch in ([0, 1, 2], [3, 4]):  # two intake transactions: 5 contents
            async with store.tx() as conn:
                await store.create_many(conn, [_new(n) for n in batch])
        claimed = await store.claim("me", limit=10, lease=timedelta(minutes=1), start=lambda job: True)
        assert len(claimed) == 5
        for answered in (claimed[:4], claimed[4:]):  # two answer transactions: 5 answers
            async with store.tx() as conn:
                moves = [Move(j, S.PUBLISHED, {"result": PublishResult(f"x-{j.id}")}) for j in answered]
                assert all(await store.transition_many(conn, moves, owner="me"))
        # three relay rounds, as the relay marks them, of the 20 rows: the 15 status events and the 5
        # payloads the starts wrote beside them (loa.payload.v1), which a round does not count
        async with engine.begin() as conn:
            for last_id, at in (
                (4, "2026-12-07 10:00:00.000001"),
                (9, "2026-12-07 10:00:00.2"),
                (20, "2026-12-07 10:00:01"),
            ):
                await conn.execute(
                    text("UPDATE outbox SET sent_at = :at WHERE id <= :last AND sent_at IS NULL"),
                    {"at": at, "last": last_id},
                )
    finally:
        await engine.dispose()
    assert rounds(database) == Rounds(contents_per_intake=2.5, answers_per_tx=2.5, events_per_relay_round=5.0)


def test_the_reference_counts_a_transaction_of_answers_as_one_batch(tmp_path: Path) -> None:
    store = Store(tmp_path / "reference.db")
    try:
        rows = [
            Row(f"k{n}", f"c{n}", 1, "a", "http://receiver/", TEXT.encode(), "2026-12-07T10:00:00Z")
            for n in range(5)
        ]
        store.begin(rows)
        store.answer([Answer(r.key, "published", 1, external_id=r.key) for r in rows[:3]], sent=[])
        store.answer([Answer(rows[3].key, "published", 1, external_id="x")], sent=[])
        store.answer([Answer(rows[4].key, "in_flight", 1)], sent=[])  # no answer yet: not a batch of answers
    finally:
        store.close()
    assert progress(tmp_path / "reference.db") == {"answered": 4, "requests": 5, "answer_batches": 2}


def test_the_split_gives_back_a_cost_per_delivery_and_per_round() -> None:
    # 2 ms a delivery and 15 a round, at rounds of 1, 3.3, 12 and 25 deliveries
    points = [(batch, 2.0 + 15.0 / batch) for batch in (1.0, 3.3, 12.0, 25.0)]
    fitted = split(points)

    assert fitted is not None
    assert fitted.per_delivery_ms == pytest.approx(2.0)
    assert fitted.per_round_ms == pytest.approx(15.0)


def test_rounds_of_much_the_same_size_are_not_split() -> None:
    # the reference alone at 4, 30, 100 and 200/s (session 44): fitted, 0.01 ms a delivery
    assert split([(1.0, 4.17), (1.0, 3.60), (1.1, 2.79), (2.3, 1.71)]) is None
    assert split([(1.0, 5.5), (1.0, 4.1)]) is None

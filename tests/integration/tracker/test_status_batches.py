"""``apply_statuses`` over batches of every size on both stores: the bulk statements, built once per
table (``services.tracker.dialect``), serve batches of 4, 2 and 1 rows alike; an older status never
overwrites a newer one (``sequence``) and the history keeps every state once, across a replay."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from loa.events import Delivery, DeliveryState, DeliveryStatus, delivery_id
from services.tracker.db import make_engine, migrate
from services.tracker.ingest import apply_statuses
from services.tracker.tables import deliveries, delivery_history

pytestmark = pytest.mark.integration

NOTE = unicodedata.normalize("NFC", "Đang đăng thông cáo về lũ ở Đà Nẵng")
WALK = (DeliveryState.SCHEDULED, DeliveryState.PUBLISHING, DeliveryState.RETRYING, DeliveryState.PUBLISHED)


def status(content_id: str, sequence: int, channel: str = "facebook") -> DeliveryStatus:
    return DeliveryStatus(
        producer=f"loa-publisher-{channel}",
        payload=Delivery(
            content_id=content_id,
            version=1,
            channel=channel,
            account="trang-chinh",
            state=WALK[sequence - 1],
            attempt=1 + (sequence >= 3),
            sequence=sequence,
            note=NOTE,
        ),
    )


async def test_batches_of_any_size_move_forward_only_and_keep_each_state_once(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        walk = [status("tb-1", s) for s in (1, 2, 3, 4)]
        applied = await apply_statuses(engine, walk)
        assert len(applied.transitions) == 4
        # a late "publishing" beside a new delivery: a batch of 2, then a replay of the first batch
        late = await apply_statuses(engine, [status("tb-1", 2), status("tb-2", 1, "zalo")])
        assert late.stale == 1
        assert [t.status.payload.content_id for t in late.transitions] == ["tb-2"]
        replay = await apply_statuses(engine, walk)
        assert (replay.stale, replay.transitions) == (4, [])
        await apply_statuses(engine, [status("tb-2", 2, "zalo")])
        async with engine.connect() as conn:
            rows = {r.id: r for r in await conn.execute(select(deliveries))}
            history = await conn.execute(
                select(delivery_history.c.delivery_id, func.count()).group_by(delivery_history.c.delivery_id)
            )
            counts = {row[0]: row[1] for row in history}
        first = rows[delivery_id("tb-1", "facebook", "trang-chinh")]
        assert (first.state, first.sequence, first.note) == ("published", 4, NOTE)
        assert first.published_at is not None
        second = rows[delivery_id("tb-2", "zalo", "trang-chinh")]
        assert (second.state, second.sequence) == ("publishing", 2)
        assert counts == {first.id: 4, second.id: 2}
    finally:
        await engine.dispose()

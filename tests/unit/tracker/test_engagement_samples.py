"""The tracker's time series of engagement on SQLite: one row per figure, a repeat kept once, the
content's unit on each row, the latest figure of each delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from loa.events import Engagement, EngagementObserved, Metric
from services.tracker.db import make_engine, migrate
from services.tracker.engagement import latest, record_samples
from services.tracker.ingest import apply_content_events
from services.tracker.tables import engagement_samples
from tests.integration.tracker.support import UNIT, approved

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def sample(
    minutes: int, metrics: dict[Metric, int], content: str = "thong-cao-da-nang"
) -> EngagementObserved:
    return EngagementObserved(
        payload=Engagement(
            content_id=content,
            version=1,
            channel="facebook",
            account="so-ttt-da-nang",
            external_id="1000_42",
            observed_at=T0 + timedelta(minutes=minutes),
            metrics=metrics,
        )
    )


async def test_samples_are_kept_once_with_the_unit_and_the_latest_figure_wins(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    try:
        await migrate(engine)
        await apply_content_events(engine, [approved("thong-cao-da-nang", [("facebook", "so-ttt-da-nang")])])
        first = sample(10, {Metric.IMPRESSIONS: 120, Metric.REACTIONS: 4})
        await record_samples(engine, [first, sample(60, {Metric.IMPRESSIONS: 980, Metric.REACTIONS: 31})])
        await record_samples(engine, [first])  # read again after a rewind
        async with engine.connect() as conn:
            rows = (await conn.execute(select(engagement_samples))).all()
        assert len(rows) == 4 and {r.unit for r in rows} == {UNIT}
        [delivery] = await latest(engine, "thong-cao-da-nang")
        assert {f.metric: f.value for f in delivery.figures} == {"impressions": 980, "reactions": 31}
        assert await latest(engine, "chua-co-bai-nao") == []
    finally:
        await engine.dispose()

"""Revision 0017: a tracker store at 0016 with engagement samples in it upgrades in place; the samples
stay and the listener's comments are kept and watched from then on."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from loa import db
from loa.events import Comments, CommentsObserved, Metric, PostComment, utcnow
from services.tracker.comments import list_comments, record_comments
from services.tracker.db import MIGRATIONS, make_engine, migrate
from services.tracker.engagement import record_samples
from services.tracker.ingest import apply_content_events
from services.tracker.tables import engagement_samples
from services.tracker.watch import VolumeRule
from tests.integration.tracker.support import UNIT, approved, observed

pytestmark = pytest.mark.integration
CONTENT = "thong-cao-da-nang"


async def test_a_0016_store_keeps_its_samples_and_takes_comments(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for revision in sorted(MIGRATIONS.folder.glob("00*.py")):
        if revision.name < "0017":
            shutil.copy(revision, folder / revision.name)
    engine = make_engine(db_url)
    now = utcnow()
    try:
        await db.migrate(engine, dataclasses.replace(MIGRATIONS, folder=folder))
        await apply_content_events(engine, [approved(CONTENT, [("facebook", "so-ttt-da-nang")])])
        await record_samples(
            engine, [observed(CONTENT, "facebook", "so-ttt-da-nang", now, {Metric.COMMENTS: 3})]
        )
        await migrate(engine)
        async with engine.connect() as conn:
            assert len((await conn.execute(select(engagement_samples))).all()) == 1
        said = PostComment(
            external_id="42_1",
            author="Hồ Văn Đạt",
            text="Cảnh giác lừa đảo!",
            created_at=now - timedelta(minutes=3),
        )
        listed = Comments(
            content_id=CONTENT, version=1, channel="facebook", account="so-ttt-da-nang",
            external_id=f"so-ttt-da-nang_{CONTENT}", observed_at=now, comments=[said],
        )  # fmt: skip
        raised = await record_comments(engine, [CommentsObserved(payload=listed)], [], VolumeRule())
        assert [r.phrase for r in raised] == ["lừa đảo"]
        [kept] = await list_comments(engine, None)
        assert (kept.unit, kept.text, kept.state) == (UNIT, "Cảnh giác lừa đảo!", "new")
    finally:
        await engine.dispose()

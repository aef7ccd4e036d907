"""Revision 0017: a tracker store at 0016 with engagement samples in it upgrades in place; the samples
stay and the listener's comments are kept and watched from then on. Revision 0019: a store at 0018
with marked comments gains their ``answered_at``."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from loa import db
from loa.events import Comments, CommentsObserved, Metric, PostComment, utcnow
from services.tracker.comments import CommentState, list_comments, mark, record_comments
from services.tracker.db import MIGRATIONS, make_engine, migrate
from services.tracker.engagement import record_samples
from services.tracker.ingest import apply_content_events
from services.tracker.tables import engagement_samples, post_comments
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


async def test_a_0018_store_keeps_its_marks_and_answers_from_then_on(db_url: str, tmp_path: Path) -> None:
    """Revision 0019: comments answered or hidden before it take their last mark's time as
    ``answered_at`` (the best the store knew); an escalated one has none; marks after it set it once."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    for revision in sorted(MIGRATIONS.folder.glob("00*.py")):
        if revision.name < "0019":
            shutil.copy(revision, folder / revision.name)
    engine = make_engine(db_url)
    now = utcnow()
    try:
        await db.migrate(engine, dataclasses.replace(MIGRATIONS, folder=folder))
        await apply_content_events(engine, [approved(CONTENT, [("facebook", "so-ttt-da-nang")])])
        texts = ["Đây là tin giả!", "Bao giờ có lịch tiếp dân ạ?", "Đề nghị làm rõ số liệu.", "Cảm ơn."]
        said = [
            PostComment(
                external_id=f"42_{i}", author="Đỗ Thị Hà", text=t, created_at=now - timedelta(hours=2)
            )
            for i, t in enumerate(texts)
        ]
        listed = Comments(
            content_id=CONTENT, version=1, channel="facebook", account="so-ttt-da-nang",
            external_id=f"so-ttt-da-nang_{CONTENT}", observed_at=now, comments=said,
        )  # fmt: skip
        await record_comments(engine, [CommentsObserved(payload=listed)], [], VolumeRule())
        marked_at = now - timedelta(hours=1)
        async with engine.begin() as conn:  # the marks as the releases before 0019 wrote them
            found = await conn.execute(select(post_comments.c.text, post_comments.c.id))
            ids: dict[str, int] = dict(found.all())
            for text, state in zip(texts, ("hidden", "answered", "escalated", "new"), strict=True):
                values = {"state": state, "state_by": "truc-ban", "state_at": marked_at}
                where = post_comments.c.id == ids[text]
                await conn.execute(update(post_comments).where(where).values(values))
        await migrate(engine)
        answered = {c.text: c.answered_at for c in await list_comments(engine, None)}
        assert answered == {texts[0]: marked_at, texts[1]: marked_at, texts[2]: None, texts[3]: None}
        reply = "Đã trả lời bằng số liệu chính thức"
        await mark(engine, ids[texts[2]], CommentState.ANSWERED, reply, "phat-ngon")
        await mark(engine, ids[texts[0]], CommentState.ANSWERED, None, "phat-ngon")  # hidden first: kept
        again = {c.text: c.answered_at for c in await list_comments(engine, None)}
        assert again[texts[0]] == marked_at
        first_answer = again[texts[2]]
        assert first_answer is not None and first_answer > now
    finally:
        await engine.dispose()

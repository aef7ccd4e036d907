"""Listener revision 0002: a store of 0001 with posts in flight upgrades in place. Each followed post
gains a comments read at its figures' next poll (a stopped one stays stopped), and from then on the
two kinds of read are claimed and scheduled on their own."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from loa import db
from loa.events import utcnow
from services.listener.schedule import Read
from services.listener.store import MIGRATIONS, FollowedStore, Published
from services.listener.tables import followed

pytestmark = pytest.mark.integration


async def test_a_0001_store_reads_the_comments_of_the_posts_it_follows(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for revision in sorted(MIGRATIONS.folder.glob("00*.py")):
        if revision.name < "0002":
            shutil.copy(revision, folder / revision.name)
    engine = db.make_engine(db_url)
    now = utcnow()
    due = now + timedelta(minutes=50)
    published = now - timedelta(hours=1, minutes=10)
    posts = [
        ("thong-cao-le-hoi-phao-hoa", "trang-so-tttt", "1000_1", due, None),
        ("lich-tiep-cong-dan", "trang-ubnd", "1000_2", None, "retracted"),
    ]
    try:
        await db.migrate(engine, dataclasses.replace(MIGRATIONS, folder=folder))
        async with engine.begin() as conn:  # the rows as the 0001 release wrote them
            await conn.execute(
                insert(followed),  # the values name 0001's columns only
                [{"content_id": c, "version": 1, "channel": "facebook", "account": a, "external_id": e,
                  "published_at": published, "step": 2, "next_poll_at": at, "stopped": why}
                 for c, a, e, at, why in posts],
            )  # fmt: skip
    finally:
        await engine.dispose()
    store = await FollowedStore.open(db_url)  # migrates to the head
    try:
        async with store.engine.connect() as conn:
            rows = (await conn.execute(select(followed).order_by(followed.c.id))).all()
        reads = {(r.content_id, r.kind): (r.step, r.next_poll_at, r.stopped) for r in rows}
        assert reads == {
            ("thong-cao-le-hoi-phao-hoa", "figures"): (2, due, None),
            ("thong-cao-le-hoi-phao-hoa", "comments"): (0, due, None),
            ("lich-tiep-cong-dan", "figures"): (2, None, "retracted"),
            ("lich-tiep-cong-dan", "comments"): (0, None, "retracted"),
        }
        assert await store.counts() == {"followed": 1, "stopped": 1}
        # the same post learnt again (a rewind): no second row of either kind
        again = Published("thong-cao-le-hoi-phao-hoa", 1, "facebook", "trang-so-tttt", "1000_1", published)
        for kind in Read:
            await store.follow(again, kind, now)
        async with store.engine.begin() as conn:
            assert len((await conn.execute(select(followed))).all()) == 4
            live = followed.c.next_poll_at.is_not(None)
            await conn.execute(update(followed).where(live).values(next_poll_at=now))
        claimed = await store.claim("listener-a", limit=10, lease=timedelta(minutes=1))
        assert sorted(p.kind for p in claimed) == [Read.COMMENTS, Read.FIGURES]
    finally:
        await store.close()

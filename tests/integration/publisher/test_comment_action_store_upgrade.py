"""Job store revision 0006: a store at 0005 with comment actions in flight gains their leases in place.
A ``sending`` action of 0005 has no lease: free, so whoever meets it again treats it as in doubt (as
before 0006), never as held by a replica; a settled one stays settled."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from loa import db
from loa.events import utcnow
from loa.publisher.store import action_leases
from loa.publisher.store.action_leases import Claim
from loa.publisher.store.db import MIGRATIONS, make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import comment_actions

pytestmark = pytest.mark.integration

REPLY = "Sở Y tế Đà Nẵng đã tiếp nhận phản ánh và sẽ trả lời trong ngày."


def action(action_id: str, state: str) -> dict[str, str]:
    return {
        "action_id": action_id,
        "channel": "facebook",
        "account": "so-y-te-da-nang",
        "content_id": "lich-tiem-chung-12",
        "comment_id": f"1029_{action_id}",
        "kind": "reply",
        "text": REPLY,
        "requested_by": "Đặng Thu Hằng",
    } | {"state": state}


async def test_a_0005_store_keeps_its_actions_and_leases_them(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for revision in sorted(MIGRATIONS.folder.glob("00*.py")):
        if revision.name < "0006":
            shutil.copy(revision, folder / revision.name)
    engine = make_engine(db_url)
    now = utcnow()
    try:
        await db.migrate(engine, dataclasses.replace(MIGRATIONS, folder=folder))
        async with engine.begin() as conn:  # the rows as 0005's runner wrote them: no lease columns
            for row in (action("a1", "sending"), action("a2", "done")):
                values = {**row, "attempt": 1, "created_at": now, "updated_at": now}
                await conn.execute(insert(comment_actions).values(values))  # (names 0005's columns only)
        await migrate(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(comment_actions).order_by(comment_actions.c.action_id))).all()
        assert [(r.action_id, r.state, r.text, r.lease_owner, r.lease_expires_at) for r in rows] == [
            ("a1", "sending", REPLY, None, None),
            ("a2", "done", REPLY, None, None),
        ]
        store = JobStore(engine, "facebook")
        lease = timedelta(seconds=60)
        in_flight = action("a1", "sending")
        del in_flight["state"]
        assert await action_leases.claim(store, in_flight, "replica-b/facebook", lease) is Claim.IN_DOUBT
        assert await action_leases.claim(store, in_flight, "replica-c/facebook", lease) is Claim.HELD
        settled = action("a2", "done")
        del settled["state"]
        assert await action_leases.claim(store, settled, "replica-b/facebook", lease) is Claim.SETTLED
    finally:
        await engine.dispose()

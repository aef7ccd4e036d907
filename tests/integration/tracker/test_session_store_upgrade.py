"""Revision 0003: a tracker store with sessions of the old shape (a token's name and role) upgrades
in place; those sessions end (everyone signs in again once), every other table keeps its rows."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from loa import db
from loa.access.principal import Grant, Kind, Principal, Role
from loa.events import utcnow
from services.tracker.db import MIGRATIONS, make_engine, migrate
from services.tracker.sessions import Sessions
from services.tracker.tables import contents

pytestmark = pytest.mark.integration


async def test_old_sessions_end_and_new_ones_hold_a_principal(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for revision in ("0001_initial_schema.py", "0002_dashboard_sessions.py"):
        shutil.copy(MIGRATIONS.folder / revision, folder / revision)
    engine = make_engine(db_url)
    now = utcnow()
    try:
        await db.migrate(engine, dataclasses.replace(MIGRATIONS, folder=folder))
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO sessions (id_sha256, principal, role, created_at, expires_at) "
                    "VALUES ('ab', 'operator', 'operator', :now, :later)"
                ),
                {"now": now, "later": now + timedelta(hours=1)},
            )
            await conn.execute(
                insert(contents).values(
                    id="thong-cao-da-nang", version=1, title="Đà Nẵng: thông cáo báo chí", unit="Sở Y tế",
                    kind="press_release", approved_by="Trần Đức Thắng", approved_at=now, targets=[],
                    updated_at=now,
                )
            )  # fmt: skip
        await migrate(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM sessions"))).scalar_one() == 0
            kept = (await conn.execute(select(contents.c.title))).scalars().all()
        assert kept == ["Đà Nẵng: thông cáo báo chí"]

        person = Principal(
            "phatngon.ubnd@loa.example", Kind.PERSON, frozenset({Grant(Role.SPOKESPERSON, "ubnd-tinh")}),
            display_name="Trần Đức Thắng",
        )  # fmt: skip
        sessions = Sessions(engine)
        assert await sessions.find(await sessions.open(person)) == person
    finally:
        await engine.dispose()

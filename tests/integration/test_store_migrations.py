"""Every store's migrations (``loa.db``), on SQLite and PostgreSQL.

What each store's code declares is what its revisions make; the baselines are the schemas release
0.1.0 created; stores may share a database; a store that is neither new nor the baseline is
refused; a later revision upgrades a store of the release in place; timestamps keep the stored
form each store's earlier releases wrote.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sqlite3
import sys
import threading
import time
from asyncio.subprocess import PIPE
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Integer, MetaData, Table, select, text

from loa import db
from loa.access.tokens import MIGRATIONS as ACCESS
from loa.publisher.store.db import MIGRATIONS as JOB_STORE
from loa.settings import CHECKOUT_PYTHONPATH
from services.ingest.db import MIGRATIONS as INGEST
from services.listener.store import MIGRATIONS as LISTENER
from services.tracker.db import MIGRATIONS as TRACKER
from tests.support.release_stores import create_release_store, insert_rows, snapshot

pytestmark = pytest.mark.integration

STORES = {
    "job_store": JOB_STORE,
    "ingest": INGEST,
    "tracker": TRACKER,
    "access": ACCESS,
    "listener": LISTENER,
}


async def _version(conn: Any, migrations: db.Migrations) -> list[str]:
    return list((await conn.execute(text(f"SELECT version_num FROM {migrations.version_table}"))).scalars())


@pytest.mark.parametrize("store", sorted(STORES))
async def test_the_latest_revision_makes_the_tables_the_code_declares(db_url: str, store: str) -> None:
    migrations = STORES[store]
    engine = db.make_engine(db_url)
    try:
        await db.migrate(engine, migrations)

        def differences(conn: Connection) -> list[Any]:
            context = MigrationContext.configure(conn, opts={"version_table": migrations.version_table})
            return list(compare_metadata(context, migrations.metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("store", ["job_store", "ingest"])
async def test_the_baseline_revision_makes_what_release_0_1_0_made(db_url: str, store: str) -> None:
    migrations = STORES[store]
    engine = db.make_engine(db_url)
    try:
        await create_release_store(engine, store)
        async with engine.begin() as conn:
            released = await snapshot(conn)
            await conn.run_sync(lambda sync: _reflected(sync).drop_all(sync))
            await conn.run_sync(_upgrade_to, migrations, migrations.baseline)
            made = await snapshot(conn)
        assert made.pop(migrations.version_table)["rows"] == [(migrations.baseline,)]
        assert made == released
    finally:
        await engine.dispose()


def _reflected(conn: Connection) -> MetaData:
    tables = MetaData()
    tables.reflect(conn)
    return tables


def _upgrade_to(conn: Connection, migrations: db.Migrations, revision: str | None) -> None:
    assert revision is not None
    command.upgrade(db.alembic_config(conn, migrations), revision)


async def test_stores_sharing_one_database_keep_their_own_revisions(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        for migrations in STORES.values():
            await db.migrate(engine, migrations)
        for migrations in STORES.values():  # a second start of each finds its own version
            await db.migrate(engine, migrations)
        async with engine.connect() as conn:
            for migrations in STORES.values():
                assert await _version(conn, migrations) == [_head(migrations)]
    finally:
        await engine.dispose()


REPLICA = """
import asyncio, sys, time
from loa.publisher.store.db import make_engine, migrate

async def start(url: str, at: float) -> None:
    engine = make_engine(url)
    await asyncio.sleep(at - time.time())  # both replicas have imported everything by then
    await migrate(engine)
    await engine.dispose()

asyncio.run(start(sys.argv[1], float(sys.argv[2])))
print("alembic" in sys.modules)
"""
"""A job store process starting at a given time (``argv``: the URL, the time); it says last
whether it imported Alembic."""
REPLICA_ENV = os.environ | {"PYTHONPATH": CHECKOUT_PYTHONPATH}


async def _job_store_is_at_its_head(db_url: str) -> bool:
    engine = db.make_engine(db_url)
    try:
        async with engine.connect() as conn:
            return await _version(conn, JOB_STORE) == [_head(JOB_STORE)]
    finally:
        await engine.dispose()


async def test_replicas_starting_together_take_turns(db_url: str) -> None:
    """Two job store processes migrate a new store at the same moment: one creates it, the other
    finds it done (PostgreSQL: the advisory lock; SQLite: ``BEGIN IMMEDIATE``)."""
    at = str(time.time() + 8)
    replicas = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", REPLICA, db_url, at, env=REPLICA_ENV)
        for _ in range(2)
    ]
    assert [await replica.wait() for replica in replicas] == [0, 0]
    assert await _job_store_is_at_its_head(db_url)


@pytest.mark.parametrize("store", sorted(STORES))
def test_the_head_read_from_the_files_is_alembic_s(store: str) -> None:
    # ``db.head_revision`` reads the assignments so a store at its head starts without Alembic;
    # Alembic's own ScriptDirectory (the source written by others) must find the same head.
    assert db.head_revision(STORES[store].folder) == _head(STORES[store])


def test_a_merge_or_a_computed_revision_is_left_to_alembic(tmp_path: Path) -> None:
    def folder(name: str, files: dict[str, str]) -> Path:
        (tmp_path / name).mkdir()
        for file, body in files.items():
            (tmp_path / name / file).write_text(body)
        return tmp_path / name

    chain = {
        "a.py": 'revision = "1"\ndown_revision = None\n',
        "b.py": "revision = '2'\ndown_revision = '1'\n",  # Alembic's template writes repr()s
    }
    branches = chain | {"c.py": 'revision = "3"\ndown_revision = "1"\n'}
    merge = branches | {"d.py": 'revision = "4"\ndown_revision = ("2", "3")\n'}
    computed = {"a.py": "revision = make_id()\ndown_revision = None\n"}

    assert db.head_revision(folder("chain", chain)) == "2"
    assert db.head_revision(folder("branches", branches)) is None  # two heads
    assert db.head_revision(folder("merge", merge)) is None
    assert db.head_revision(folder("computed", computed)) is None


async def test_a_store_at_its_latest_revision_starts_without_alembic(db_url: str) -> None:
    """Alembic stays resident once imported (~6 MB, bench/rss.py): a process whose store is at its
    head (a restart; production, where the migrations job ran first) never imports it."""

    async def start() -> str:
        now = str(time.time())
        out = await asyncio.create_subprocess_exec(
            sys.executable, "-c", REPLICA, db_url, now, env=REPLICA_ENV, stdout=PIPE
        )
        said, _ = await out.communicate()
        assert out.returncode == 0
        return said.decode().strip()

    assert await start() == "True"  # a new store: Alembic made it
    assert await start() == "False"  # at its head: not imported
    assert await _job_store_is_at_its_head(db_url)


@pytest.mark.parametrize("queued_writes", [False, True], ids=["pooled", "queued_writes"])
async def test_a_new_file_another_process_is_writing_still_switches_to_wal(
    tmp_path: Path, queued_writes: bool
) -> None:
    """The race the replicas test above can lose, made certain: another connection holds the write
    lock of a new file while this one switches it to WAL. SQLite answers "database is locked" at
    once there, without its busy handler (the switch would deadlock with a writer that waits for
    this connection's read lock). The engine tries again until the other lets go."""
    path = tmp_path / "jobs.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the other replica, between its read and its switch
    release = threading.Timer(0.3, other.rollback)
    release.start()
    engine = db.make_engine(f"sqlite+aiosqlite:///{path}", queued_writes=queued_writes)
    started = time.monotonic()
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert time.monotonic() - started >= 0.25  # it waited for the other, not around it
    finally:
        await engine.dispose()
        release.cancel()
        release.join()
        other.close()


async def test_a_store_that_is_neither_new_nor_the_baseline_is_refused(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    try:
        async with engine.begin() as conn:  # one table of the baseline, the others missing
            await conn.execute(text("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state VARCHAR(20))"))
        with pytest.raises(RuntimeError, match="not those of revision 0001"):
            await db.migrate(engine, JOB_STORE)
        async with engine.connect() as conn:
            assert await conn.run_sync(lambda sync: sorted(_reflected(sync).tables)) == ["jobs"]
    finally:
        await engine.dispose()


SECOND_REVISION = '''"""a column for a later release"""

import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = "{head}"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), nullable=False, server_default="5"))
'''


async def test_a_store_of_release_0_1_0_is_stamped_then_upgraded_by_a_later_revision(
    db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(JOB_STORE.folder, folder, ignore=shutil.ignore_patterns("__pycache__"))
    # after whatever is the head now: the test is about a later release, not about revision 0002
    (folder / "9002_weight.py").write_text(SECOND_REVISION.replace("{head}", _head(JOB_STORE)))
    metadata = MetaData()
    for table in JOB_STORE.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["jobs"].append_column(Column("weight", Integer, nullable=False, server_default="5"))
    later = dataclasses.replace(JOB_STORE, folder=folder, metadata=metadata)
    now = datetime(2026, 12, 3, 10, 0)
    job = {"content_id": "c", "version": 1, "channel": "x", "account": "a", "operation": "publish",
           "state": "scheduled", "due_at": now, "attempt": 0, "attempt_floor": 0, "native": False,
           "retract_requested": False, "created_at": now, "updated_at": now}  # fmt: skip
    engine = db.make_engine(db_url)
    try:
        await create_release_store(engine, "job_store")
        await insert_rows(engine, {"jobs": [job]})
        await db.migrate(engine, later)
        await db.migrate(engine, later)  # the next start: nothing to do
        async with engine.connect() as conn:
            assert await _version(conn, later) == ["9002"]
            rows = (await conn.execute(select(metadata.tables["jobs"]))).mappings().all()
        assert [(r["content_id"], r["state"], r["due_at"], r["weight"]) for r in rows] == [
            ("c", "scheduled", now.replace(tzinfo=UTC), 5)
        ]
    finally:
        await engine.dispose()


async def test_timestamps_keep_the_stored_form_earlier_releases_wrote_and_read_back_equal(
    db_url: str,
) -> None:
    """Naive UTC for the job store's ``TIMESTAMP`` columns (and everything on SQLite), an instant
    for the tracker's and ingest's ``TIMESTAMPTZ``: rows written before read back as the same UTC
    instant, and rows written now are stored as before."""
    tables = MetaData()
    typed = Table(
        "times",
        tables,
        Column("id", Integer, primary_key=True),
        Column("naive", db.UtcDateTime()),
        Column("zoned", db.UtcDateTime(timezone=True)),
    )
    hanoi = datetime(2026, 12, 3, 17, 30, 15, 123456, tzinfo=timezone(timedelta(hours=7)))
    utc = hanoi.astimezone(UTC)
    sqlite = db_url.startswith("sqlite")
    # what each earlier type wrote: on SQLite naive UTC text in both; on PostgreSQL a naive UTC
    # TIMESTAMP (job store) and an instant in a TIMESTAMPTZ (tracker; the ingest wrote UTC too)
    stored_naive: Any = "2026-12-03 10:30:15.123456" if sqlite else utc.replace(tzinfo=None)
    stored_zoned: Any = stored_naive if sqlite else utc
    engine = db.make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(tables.create_all)
            await conn.execute(
                text("INSERT INTO times (id, naive, zoned) VALUES (1, :naive, :zoned)"),
                {"naive": stored_naive, "zoned": stored_zoned},
            )
            await conn.execute(typed.insert(), {"id": 2, "naive": hanoi, "zoned": hanoi})
            read = (await conn.execute(select(typed.c.naive, typed.c.zoned).order_by(typed.c.id))).all()
            raw = (await conn.execute(text("SELECT naive, zoned FROM times ORDER BY id"))).all()
        assert [tuple(r) for r in read] == [(utc, utc), (utc, utc)]
        assert all(value.tzinfo is UTC for row in read for value in row)
        assert raw[1] == raw[0] == (stored_naive, stored_zoned)
        with pytest.raises(Exception, match="naive datetime"):
            async with engine.begin() as conn:
                await conn.execute(typed.insert(), {"id": 3, "naive": datetime(2026, 1, 1)})
    finally:
        await engine.dispose()


def _head(migrations: db.Migrations) -> str:
    config = db.alembic_config(None, migrations)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head

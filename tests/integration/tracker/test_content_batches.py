"""``apply_content_events`` writes a batch's approvals together (three statements, not three per
event): on both stores the result is the one of applying the same events one at a time — the newest
version wins (the later of equal ones), a late older version changes nothing, a retraction holds
its place in the order, a repeated event is in the history once, a delivery's placeholder is its
first approval's, a target no publisher runs is failed at once."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from loa.events import Content, ContentApproved, ContentRetracted, ContentUpdated, Retraction, Target, utcnow
from services.tracker.db import make_engine, migrate
from services.tracker.ingest import apply_content_events
from services.tracker.tables import content_history, contents, deliveries

pytestmark = pytest.mark.integration

CHANNELS = frozenset({"website", "facebook", "zalo"})
TITLE = unicodedata.normalize("NFC", "Thông cáo báo chí về công tác phòng, chống lũ tại Đắk Lắk")


def approval(
    cid: str, version: int, title: str, *targets: tuple[str, str]
) -> ContentApproved | ContentUpdated:
    content = Content(
        id=cid,
        version=version,
        title=title,
        unit="Văn phòng Bộ",
        approved_by="Đặng Thị Hương",
        approved_at=utcnow(),
        targets=[Target(channel=c, account=a) for c, a in targets],
    )
    return (ContentApproved if version == 1 else ContentUpdated)(payload=content)


def events(prefix: str) -> list[Any]:
    x, y = f"{prefix}-thong-cao", f"{prefix}-lich-hop"
    first = approval(x, 1, TITLE, ("website", "main"), ("facebook", "trang-chinh"))
    return [
        first,
        approval(x, 3, f"{TITLE} (cập nhật)", ("website", "main"), ("zalo", "oa-bo")),
        approval(x, 2, "Bản cũ đến muộn", ("website", "main")),
        approval(x, 3, f"{TITLE} (cập nhật lần 2)", ("website", "main"), ("zalo", "oa-bo")),
        ContentRetracted(payload=Retraction(id=x, reason="Sai số liệu", requested_by="Đặng Thị Hương")),
        approval(y, 1, "Lịch họp báo thường kỳ", ("website", "main"), ("tiktok", "kenh-bo")),
        approval(y, 1, "Lịch họp báo thường kỳ tháng Mười hai", ("website", "main"), ("tiktok", "kenh-bo")),
        first,  # Kafka gives it again
        approval(x, 4, f"{TITLE} (đính chính)", ("website", "main")),
    ]


async def snapshot(engine: Any, prefix: str) -> dict[str, Any]:
    """The rows of ``prefix``'s contents, without what differs between two runs (ids, times)."""

    def strip(row: Any, *drop: str) -> dict[str, Any]:
        out = {k: v for k, v in row._mapping.items() if k not in drop}
        return {k: v.replace(prefix, "P") if isinstance(v, str) else v for k, v in out.items()}

    async with engine.connect() as conn:
        content_rows = await conn.execute(select(contents).where(contents.c.id.like(f"{prefix}-%")))
        history = await conn.execute(
            select(content_history)
            .where(content_history.c.content_id.like(f"{prefix}-%"))
            .order_by(content_history.c.content_id, content_history.c.type, content_history.c.version)
        )
        delivery_rows = await conn.execute(
            select(deliveries).where(deliveries.c.content_id.like(f"{prefix}-%")).order_by(deliveries.c.id)
        )
        return {
            "contents": sorted(
                (strip(r, "approved_at", "updated_at", "retracted_at") for r in content_rows),
                key=lambda r: r["id"],
            ),
            "history": [strip(r, "event_id", "occurred_at", "id", "recorded_at") for r in history],
            "deliveries": [strip(r, "due_at", "state_at", "first_seen_at") for r in delivery_rows],
        }


async def test_a_batch_is_written_as_its_events_one_at_a_time(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        for event in events("one"):
            await apply_content_events(engine, [event], CHANNELS)
        touched = await apply_content_events(engine, events("all"), CHANNELS)
        assert touched == {"all-thong-cao", "all-lich-hop"}
        one, together = await snapshot(engine, "one"), await snapshot(engine, "all")
        assert together == one
        x = next(r for r in together["contents"] if r["id"] == "P-thong-cao")
        assert (x["version"], x["title"], x["retracted_by"]) == (4, f"{TITLE} (đính chính)", "Đặng Thị Hương")
        y = next(r for r in together["contents"] if r["id"] == "P-lich-hop")
        assert y["title"] == "Lịch họp báo thường kỳ tháng Mười hai"  # the later of equal versions
        assert len(together["history"]) == 8  # the repeated approval once
        states = {r["id"]: (r["state"], r["version"]) for r in together["deliveries"]}
        assert states["P-thong-cao:facebook:trang-chinh"] == ("received", 1)
        assert states["P-thong-cao:zalo:oa-bo"] == ("received", 3)
        assert states["P-lich-hop:tiktok:kenh-bo"] == ("failed", 1)
    finally:
        await engine.dispose()


async def test_on_postgresql_each_table_gets_one_statement_whatever_the_batch_size(pg_url: str) -> None:
    # A multi-row VALUES list (SQLAlchemy's executemany on asyncpg) was a new statement per batch
    # size, built and prepared anew: the contents' upsert alone took 11 % of the tracker's CPU at
    # 30 contents/s (py-spy, docs/benchmarks.md "Reading the s31 run"). One text per table, and
    # the result the same as before (the test above).
    engine = make_engine(pg_url)
    seen: list[str] = []

    @sa_event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement)

    try:
        await migrate(engine)
        seen.clear()
        for size in (1, 2, 3):
            batch = [
                approval(f"size{size}-{n}", 1, TITLE, ("website", "main"), ("facebook", "trang-chinh"))
                for n in range(size)
            ]
            await apply_content_events(engine, batch, CHANNELS)
        by_table: dict[str, set[str]] = {}
        for statement in seen:
            table = statement.split("INTO", 1)[1].split()[0]
            by_table.setdefault(table, set()).add(statement)
        assert set(by_table) == {"contents", "content_history", "deliveries"}
        assert all(len(texts) == 1 for texts in by_table.values()), by_table
        async with engine.connect() as conn:
            stored = (
                await conn.execute(select(contents.c.targets).where(contents.c.id == "size3-2"))
            ).scalar_one()
        assert stored == [
            {"channel": "website", "account": "main"},
            {"channel": "facebook", "account": "trang-chinh"},
        ]
    finally:
        await engine.dispose()

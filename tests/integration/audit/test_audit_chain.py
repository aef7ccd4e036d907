"""The hash chain on the real stores: tampering is found and named, replicas keep one chain."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from loa.access import Kind, Principal
from loa.audit import AuditAction, AuditOutcome, record
from loa.audit.chain import append
from loa.audit.verify import Anchor, verify
from loa.cli.main import app as cli
from loa.events import AuditRecorded
from services.tracker.db import make_engine, migrate

pytestmark = pytest.mark.integration
SPOKESPERSON = Principal("nguyen.thi.hong@mic.gov.vn", Kind.PERSON, display_name="Nguyễn Thị Hồng")
UNIT = "Vụ Truyền thông và Báo chí"


class Collected:
    """A sink that keeps the events, to chain them as a batch."""

    producer = "loa-test"

    def __init__(self) -> None:
        self.events: list[AuditRecorded] = []

    async def write(self, event: AuditRecorded) -> None:
        self.events.append(event)


async def _acts(n: int, who: Principal = SPOKESPERSON) -> list[AuditRecorded]:
    sink = Collected()
    for i in range(n):
        await record(
            sink,
            who,
            AuditAction.RETRACT,
            reason=f"Đính chính số liệu lần {i}: Đồng Nai",
            content_id=f"thong-cao-{i}",
            version=1,
            unit=UNIT,
        )
    return sink.events


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    e = make_engine(db_url)
    await migrate(e)
    yield e
    await e.dispose()


async def _sql(engine: AsyncEngine, statement: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement))


async def test_an_intact_chain_verifies_and_its_head_anchors_it(engine: AsyncEngine) -> None:
    await append(engine, await _acts(5))
    verdict = await verify(engine)
    assert verdict.ok and verdict.rows == 5
    assert verdict.head is not None
    assert (await verify(engine, verdict.head)).ok
    assert not (await verify(engine, Anchor(verdict.head.seq, "f" * 64))).ok


async def test_an_edited_row_is_named(engine: AsyncEngine) -> None:
    await append(engine, await _acts(5))
    await _sql(engine, "UPDATE audit_log SET actor = 'ke.gian@example.com' WHERE seq = 3")
    verdict = await verify(engine)
    assert (verdict.bad_seq, verdict.rows) == (3, 2)
    assert "row 3 was edited" in verdict.problem


async def test_a_deleted_row_is_named(engine: AsyncEngine) -> None:
    await append(engine, await _acts(5))
    await _sql(engine, "DELETE FROM audit_log WHERE seq = 2")
    verdict = await verify(engine)
    assert verdict.bad_seq == 2
    assert "row 2 is missing" in verdict.problem


async def test_a_deleted_row_renumbered_to_hide_the_gap_is_named(engine: AsyncEngine) -> None:
    await append(engine, await _acts(5))
    await _sql(engine, "DELETE FROM audit_log WHERE seq = 2")
    await _sql(engine, "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2")
    verdict = await verify(engine)
    assert verdict.bad_seq == 2  # the row now numbered 2 was row 3: its seq is hashed


async def test_reordered_rows_are_named(engine: AsyncEngine) -> None:
    await append(engine, await _acts(5))
    # swap rows 2 and 4 whole (their hashes with them): each still matches its own content
    await _sql(engine, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    await _sql(engine, "UPDATE audit_log SET seq = 2 WHERE seq = 4")
    await _sql(engine, "UPDATE audit_log SET seq = 4 WHERE seq = 100")
    verdict = await verify(engine)
    assert verdict.bad_seq == 2


async def test_a_cut_tail_is_found_only_with_an_anchor(engine: AsyncEngine) -> None:
    """What the chain alone cannot prove: deleting the last rows leaves a valid shorter chain."""
    await append(engine, await _acts(5))
    head = (await verify(engine)).head
    assert head is not None
    await _sql(engine, "DELETE FROM audit_log WHERE seq >= 4")
    assert (await verify(engine)).ok
    verdict = await verify(engine, head)
    assert verdict.bad_seq == 5
    assert "cut after row 3" in verdict.problem


async def test_an_event_delivered_twice_is_chained_once(engine: AsyncEngine) -> None:
    events = await _acts(3)
    await append(engine, events)
    assert await append(engine, [events[1], *await _acts(1)]) != []
    verdict = await verify(engine)
    assert verdict.ok and verdict.rows == 4


async def test_two_replicas_appending_at_once_keep_one_chain(db_url: str) -> None:
    """Two tracker replicas (two engines, two connection pools) append 20 batches each at once."""
    engines = [make_engine(db_url), make_engine(db_url)]
    await migrate(engines[0])
    try:
        batches = [await _acts(3) for _ in range(40)]
        await asyncio.gather(*(append(engines[i % 2], b) for i, b in enumerate(batches)))
        verdict = await verify(engines[0])
        assert verdict.ok, verdict.problem
        assert verdict.rows == 120
    finally:
        for e in engines:
            await e.dispose()


async def test_the_cli_names_the_first_bad_row(engine: AsyncEngine, db_url: str) -> None:
    refused = Principal("anonymous", Kind.PERSON, address="203.0.113.9")
    sink = Collected()
    await record(
        sink, refused, AuditAction.SIGN_IN_FAILED, outcome=AuditOutcome.REFUSED, reason="unknown token"
    )
    await append(engine, [*await _acts(2), *sink.events])
    runner = CliRunner()
    ok = await asyncio.to_thread(runner.invoke, cli, ["audit", "verify", "--database-url", db_url])
    assert ok.exit_code == 0, ok.output
    assert "audit log intact: 3 rows, head 3:" in ok.output
    head = ok.output.split("head ")[1].split()[0]
    await _sql(engine, f"UPDATE audit_log SET reason = 'sửa {uuid.uuid4().hex[:4]}' WHERE seq = 1")
    bad = await asyncio.to_thread(
        runner.invoke, cli, ["audit", "verify", "--database-url", db_url, "--anchor", head]
    )
    assert bad.exit_code == 1
    assert "BROKEN at row 1: row 1 was edited" in bad.output

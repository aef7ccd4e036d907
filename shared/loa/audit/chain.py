"""The hash chain: each row's SHA-256 covers its canonical JSON and the previous row's hash.

What the chain proves: a row edited, deleted or moved in the middle, or a row inserted between
two others, breaks it at that row, and ``verify`` names the first such row. What it does not
prove alone: that the tail is complete (deleting the last rows leaves a shorter valid chain) or
that someone with write access did not rewrite every row after the one they changed (a hash
chain with no secret can be recomputed). Both are answered by an anchor kept outside the
database: ``loa audit verify`` prints the head (seq and hash); keep it elsewhere (ops ticket,
e-mail, another system) and pass it back with ``--anchor SEQ:HASH`` to prove that row is
still there, unchanged, and so is everything before it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loa.audit.table import audit_table
from loa.events import AuditRecorded, utcnow

log = logging.getLogger(__name__)

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row."""
CHAIN_LOCK = int.from_bytes(hashlib.sha256(b"loa-audit-chain").digest()[:8], "big", signed=True)
"""The PostgreSQL advisory lock key that makes appends of several tracker replicas take turns."""
APPEND_ATTEMPTS = 5

table = audit_table(MetaData())
HASHED = tuple(c.name for c in table.columns if c.name != "hash")
"""Every column but the hash itself, ``prev_hash`` and ``seq`` included."""


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def row_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8, times in UTC to the
    microsecond) of a row's hashed columns."""
    document = {name: _canonical(fields[name]) for name in HASHED}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def row_of(event: AuditRecorded, seq: int, prev_hash: str, recorded_at: datetime) -> dict[str, Any]:
    """The row of an event, chained after ``prev_hash``."""
    e = event.payload
    fields: dict[str, Any] = {
        "seq": seq,
        "event_id": str(event.event_id),
        # stored with microseconds on both stores; rounding here keeps the hash of what is read back
        "occurred_at": event.occurred_at.astimezone(UTC),
        "recorded_at": recorded_at,
        "source": event.producer,
        "actor": e.actor,
        "actor_kind": e.actor_kind.value,
        "address": e.address,
        "action": e.action.value,
        "outcome": e.outcome.value,
        "reason": e.reason,
        "content_id": e.content_id,
        "version": e.version,
        "delivery_id": e.delivery_id,
        "account": e.account,
        "unit": e.unit,
        "detail": e.detail,
        "prev_hash": prev_hash,
    }
    fields["hash"] = row_hash(fields)
    return fields


async def _take_the_head(conn: AsyncConnection) -> tuple[int, str] | None:
    """Lock the chain for this transaction and read its last row.

    PostgreSQL: a transaction-level advisory lock, so replicas append one at a time and the
    runtime role needs no UPDATE on any table. SQLite: a write statement that changes nothing
    takes the database's one write lock before the read (pysqlite begins lazily, at a write).
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    else:
        await conn.execute(table.update().where(text("0 = 1")).values(seq=table.c.seq))
    query = select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
    head = (await conn.execute(query)).first()
    return (head.seq, head.hash) if head else None


async def _append_once(engine: AsyncEngine, events: Sequence[AuditRecorded]) -> list[dict[str, Any]]:
    async with engine.begin() as conn:
        head = await _take_the_head(conn)
        ids = [str(e.event_id) for e in events]
        known = set((await conn.execute(select(table.c.event_id).where(table.c.event_id.in_(ids)))).scalars())
        seq, prev = head or (0, GENESIS)
        rows = []
        now = utcnow()
        for event in events:
            if str(event.event_id) in known:
                continue  # delivered again by Kafka, or retried after a lost answer
            known.add(str(event.event_id))
            seq += 1
            row = row_of(event, seq, prev, now)
            prev = row["hash"]
            rows.append(row)
        if rows:
            await conn.execute(table.insert(), rows)
        return rows


async def append(engine: AsyncEngine, events: Sequence[AuditRecorded]) -> list[dict[str, Any]]:
    """Chain ``events`` after the head in one transaction (skipping any already chained);
    returns the rows written. The unique ``seq`` refuses a second writer that slipped past the
    lock (a store without one), and the batch is chained again on the new head."""
    if not events:
        return []
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            return await _append_once(engine, events)
        except IntegrityError:
            if attempt == APPEND_ATTEMPTS:
                raise
            log.warning("audit chain head moved while appending; chaining again (attempt %d)", attempt)
    raise AssertionError("unreachable")


class ChainSink:
    """The sink of ``loa.audit.record`` that chains each entry before the call returns: the
    tracker's own acts, and ``loa tokens`` run by whoever holds the tracker's database."""

    def __init__(self, engine: AsyncEngine, producer: str) -> None:
        self.producer = producer
        self._engine = engine

    async def write(self, event: AuditRecorded) -> None:
        await append(self._engine, [event])

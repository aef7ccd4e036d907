"""``loa audit verify``'s check: walk the chain from its first row and name the first bad one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from loa.audit.chain import GENESIS, HASHED, row_hash, table

STREAM_ROWS = 1000


@dataclass(frozen=True)
class Anchor:
    """A row's seq and hash kept outside the database (a checkpoint)."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, value: str) -> Anchor:
        seq, sep, digest = value.partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64:
            raise ValueError(f"anchor {value!r} is not SEQ:SHA256HEX (as `loa audit verify` prints the head)")
        return cls(int(seq), digest.lower())


@dataclass(frozen=True)
class Verdict:
    rows: int
    """Rows checked, up to the first bad one."""
    head: Anchor | None
    """The last good row."""
    bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


async def verify(engine: AsyncEngine, anchor: Anchor | None = None) -> Verdict:
    """Every row's seq follows the previous one, its ``prev_hash`` is the previous row's hash and
    its hash is that of its content; with ``anchor``, that row is still there with that hash."""
    expected_seq, prev, count, head = 1, GENESIS, 0, None
    anchor_seen = False
    query = select(*(table.c[name] for name in (*HASHED, "hash"))).order_by(table.c.seq)
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=STREAM_ROWS))
        async for row in result.mappings():
            fields = dict(row)
            seq = fields["seq"]
            if seq != expected_seq:
                what = "missing (deleted)" if seq > expected_seq else "repeated or out of order"
                return Verdict(
                    count, head, expected_seq, f"row {expected_seq} is {what}: found row {seq} next"
                )
            if fields["prev_hash"] != prev:
                return Verdict(
                    count, head, seq, f"row {seq} does not follow row {seq - 1}: a row was replaced or moved"
                )
            if row_hash(fields) != fields["hash"]:
                return Verdict(count, head, seq, f"row {seq} was edited: its content does not match its hash")
            if anchor is not None and seq == anchor.seq:
                if fields["hash"] != anchor.hash:
                    return Verdict(count, head, seq, f"row {seq} is not the anchored row: its hash differs")
                anchor_seen = True
            count, prev, head = count + 1, fields["hash"], Anchor(seq, fields["hash"])
            expected_seq += 1
    if anchor is not None and not anchor_seen:
        return Verdict(
            count,
            head,
            anchor.seq,
            f"row {anchor.seq} of the anchor is gone: the log was cut after row {count}",
        )
    return Verdict(count, head)

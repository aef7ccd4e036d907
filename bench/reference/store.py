"""The reference publisher's record of its deliveries: one SQLite file (WAL, ``synchronous=FULL`` as
Loa's job store, ``loa.db``), one transaction per batch for each step.

A row is written ``in_flight`` with its request body before the request leaves, and answered
(``published`` or ``failed``) after; ``status_sent`` marks its one status event as produced. A row
found ``in_flight`` at start may have reached the receiver: it is asked first (``find``).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY,          -- the webhook idempotency key: one row per content version and account
    content_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    account TEXT NOT NULL,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    approved_at TEXT NOT NULL,
    state TEXT NOT NULL,           -- in_flight | published | failed
    external_id TEXT,
    public_url TEXT,
    error TEXT,
    requests INTEGER NOT NULL DEFAULT 0,
    answered_at REAL,
    status_sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (state, status_sent);
"""


@dataclass(frozen=True)
class Row:
    key: str
    content_id: str
    version: int
    account: str
    url: str
    body: bytes
    approved_at: str


@dataclass(frozen=True)
class Answer:
    """What became of one row's request: published (with the receiver's id), failed, or unknown."""

    key: str
    state: str  # published | failed | in_flight (no answer: in doubt, asked again later)
    requests: int
    external_id: str | None = None
    public_url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Settled:
    """An answered row whose status event is not produced yet."""

    key: str
    content_id: str
    version: int
    account: str
    state: str
    external_id: str | None
    public_url: str | None
    error: str | None


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def begin(self, rows: list[Row]) -> list[Row]:
        """Record ``rows`` in flight, in one transaction; returns those not recorded before."""
        new = []
        with self._transaction():
            for r in rows:
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO deliveries"
                    " (key, content_id, version, account, url, body, approved_at, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'in_flight')",
                    (r.key, r.content_id, r.version, r.account, r.url, r.body, r.approved_at),
                )
                if cursor.rowcount:
                    new.append(r)
        return new

    def answer(self, answers: list[Answer], sent: list[str]) -> None:
        """Record the answers (an ``in_flight`` one counts its requests only) and mark the status
        events of ``sent`` as produced, in one transaction."""
        now = time.time()
        with self._transaction():
            self._mark_sent(sent)
            self.db.executemany(
                "UPDATE deliveries SET state = ?, requests = requests + ?, external_id = ?,"
                " public_url = ?, error = ?, answered_at = ? WHERE key = ?",
                [
                    (
                        a.state,
                        a.requests,
                        a.external_id,
                        a.public_url,
                        a.error,
                        None if a.state == "in_flight" else now,
                        a.key,
                    )
                    for a in answers
                ],
            )

    def in_flight(self) -> list[Row]:
        """Rows whose request may have left without its answer being recorded."""
        cursor = self.db.execute(
            "SELECT key, content_id, version, account, url, body, approved_at FROM deliveries"
            " WHERE state = 'in_flight' ORDER BY rowid"
        )
        return [Row(*r) for r in cursor]

    def unsent(self) -> list[Settled]:
        cursor = self.db.execute(
            "SELECT key, content_id, version, account, state, external_id, public_url, error"
            " FROM deliveries WHERE state != 'in_flight' AND status_sent = 0 ORDER BY rowid"
        )
        return [Settled(*r) for r in cursor]

    def sent(self, keys: list[str]) -> None:
        if keys:
            with self._transaction():
                self._mark_sent(keys)

    def _mark_sent(self, keys: list[str]) -> None:
        self.db.executemany("UPDATE deliveries SET status_sent = 1 WHERE key = ?", [(k,) for k in keys])

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def progress(path: Path) -> dict[str, int]:
    """``{"answered", "requests", "answer_batches"}`` so far, read beside the running publisher (the
    bench's counter; a batch's answers are written with one ``answered_at``)."""
    if not path.exists():  # the publisher has not started yet (connecting read-only would fail)
        return {"answered": 0, "requests": 0, "answer_batches": 0}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        answered, requests, batches = db.execute(
            "SELECT count(answered_at), coalesce(sum(requests), 0), count(DISTINCT answered_at)"
            " FROM deliveries"
        ).fetchone()
    except sqlite3.OperationalError:  # its table not created yet
        return {"answered": 0, "requests": 0, "answer_batches": 0}
    finally:
        db.close()
    return {"answered": int(answered), "requests": int(requests), "answer_batches": int(batches)}

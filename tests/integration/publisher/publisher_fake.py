"""A fake platform and its adapter, for the runtime's own tests (the real reference is the webhook channel).

The platform is a SQLite file shared across processes: every accepted publish is a row (no
deduplication), so a test counts exactly what reached the platform, even across SIGKILLs.
Faults are rows too: the next N calls of an operation fail with a given error.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from datetime import timedelta
from pathlib import Path

from loa.channels import (
    Account,
    AuthError,
    ChannelAdapter,
    Limits,
    PermanentError,
    Post,
    PublishResult,
    TransientError,
)
from loa.channels.corrections import CorrectionLink
from loa.events import Content, Target, utcnow

SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, marker TEXT, content_id TEXT, version INTEGER, account TEXT,
  text TEXT, deleted INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT, marker TEXT, pid INTEGER);
CREATE TABLE IF NOT EXISTS faults (op TEXT, kind TEXT, remaining INTEGER, retry_after REAL);
"""


class FakePlatform:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def add_fault(self, op: str, kind: str, times: int = 1, retry_after: float = 0.0) -> None:
        with self._db() as db:
            db.execute("INSERT INTO faults VALUES (?, ?, ?, ?)", (op, kind, times, retry_after))

    def take_fault(self, op: str) -> tuple[str, float] | None:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT rowid, kind, retry_after FROM faults WHERE op = ? AND remaining > 0 LIMIT 1", (op,)
            ).fetchone()
            if row:
                db.execute("UPDATE faults SET remaining = remaining - 1 WHERE rowid = ?", (row[0],))
            db.execute("COMMIT")
            return (row[1], row[2]) if row else None
        finally:
            db.close()

    def record_call(self, op: str, marker: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO calls (op, marker, pid) VALUES (?, ?, ?)", (op, marker, os.getpid()))

    def accept(self, post: Post) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO posts (marker, content_id, version, account, text) VALUES (?, ?, ?, ?, ?)",
                (post.marker, post.content_id, post.version, post.account, "\n".join(post.texts)),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def find(self, marker: str) -> int | None:
        with self._db() as db:
            row = db.execute(
                "SELECT id FROM posts WHERE marker = ? AND deleted = 0 ORDER BY id LIMIT 1", (marker,)
            ).fetchone()
        return int(row[0]) if row else None

    def edit(self, post_id: int, text: str) -> None:
        with self._db() as db:
            db.execute("UPDATE posts SET text = ? WHERE id = ?", (text, post_id))

    def delete(self, post_id: int) -> None:
        with self._db() as db:
            db.execute("UPDATE posts SET deleted = 1 WHERE id = ?", (post_id,))

    # ---- what tests read ----------------------------------------------------------------------

    def posts(self) -> list[tuple[int, str, str, int, str, int]]:
        with self._db() as db:
            return db.execute(
                "SELECT id, marker, content_id, version, text, deleted FROM posts ORDER BY id"
            ).fetchall()

    def callers(self, op: str) -> set[int]:
        with self._db() as db:
            return {int(r[0]) for r in db.execute("SELECT DISTINCT pid FROM calls WHERE op = ?", (op,))}

    def calls(self, op: str) -> int:
        with self._db() as db:
            return int(db.execute("SELECT count(*) FROM calls WHERE op = ?", (op,)).fetchone()[0])


FAKE_HOST = "fake.example:8443"
"""Where the fake platform says its calls go (``ChannelAdapter.target_host``)."""


class FakeAdapter(ChannelAdapter):
    """Account options: ``platform`` (the SQLite path), ``accept_delay`` (seconds between the
    platform's acceptance and the answer, a window for crashes), ``answer_after`` (exactly that
    many seconds, e.g. a long upload still going on after the post exists); fault op ``answer``:
    the post is accepted and the call times out.
    Credential ``token``: "expired" → AuthError."""

    name = "fakechan"
    # A platform counting code points, 500 per text, two JPEG images of at most 1 MB.
    limits = Limits(
        text_max=500,
        title_max=120,
        media_types=frozenset({"image/jpeg"}),
        image_max_bytes=1_000_000,
        max_images=2,
    )

    def target_host(self, account: Account) -> str | None:
        return FAKE_HOST

    def _platform(self, account: Account) -> FakePlatform:
        return FakePlatform(account.options["platform"])

    async def _check(self, platform: FakePlatform, op: str, account: Account) -> None:
        if account.secret("token") == "expired":
            raise AuthError("Error validating access token: Session has expired", code=190)
        fault = platform.take_fault(op)
        if fault is None:
            return
        kind, retry_after = fault
        if kind == "transient":
            retry_at = utcnow() + timedelta(seconds=retry_after) if retry_after else None
            raise TransientError("rate limited", code=429, retry_at=retry_at)
        if kind == "auth":
            raise AuthError("token revoked", code=190)
        raise PermanentError("refused by the platform", code=100)

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        text = target.text or f"{content.title}\n\n{content.summary}".strip()
        return Post(
            content_id=content.id,
            version=content.version,
            channel=self.name,
            account=account.name,
            marker=f"loa:{content.id}",
            title=target.title or content.title,
            texts=[f"{text}\n{self.context.canonical_url(content)}"],
            media=list(content.media),
        )

    async def publish(self, post: Post, account: Account) -> PublishResult:
        platform = self._platform(account)
        platform.record_call("publish", post.marker)
        await self._check(platform, "publish", account)
        post_id = platform.accept(post)
        if platform.take_fault("answer") is not None:  # accepted, but the answer never came back
            raise TransientError("timed out waiting for the answer", in_doubt=True)
        delay = float(account.options.get("accept_delay", 0))
        if delay:
            await asyncio.sleep(random.uniform(0, delay))
        await asyncio.sleep(float(account.options.get("answer_after", 0)))
        platform.record_call("answered", post.marker)
        return PublishResult(external_id=str(post_id), url=f"https://fake.example/p/{post_id}")

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        platform = self._platform(account)
        platform.record_call("find", post.marker)
        post_id = platform.find(post.marker)
        return None if post_id is None else PublishResult(str(post_id), f"https://fake.example/p/{post_id}")

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        platform = self._platform(account)
        platform.record_call("update", post.marker)
        await self._check(platform, "update", account)
        platform.edit(int(previous.external_id), "\n".join(post.texts))
        return previous

    async def retract(self, previous: PublishResult, account: Account) -> None:
        platform = self._platform(account)
        platform.record_call("retract", previous.external_id)
        await self._check(platform, "retract", account)
        platform.delete(int(previous.external_id))

    # ---- a correction's link step: a reply on the original, its text naming both ---------------

    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        return True

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        """Option ``link_answer_after``: seconds between the platform's acceptance and the answer."""
        platform = self._platform(account)
        platform.record_call("link", link.post.marker)
        await self._check(platform, "link", account)
        text = f"Đính chính {link.original.external_id}: {link.url}"
        reply = Post(link.post.content_id, link.post.version, self.name, link.post.account, link.post.marker)
        reply.texts = [text]
        reply_id = platform.accept(reply)
        await asyncio.sleep(float(account.options.get("link_answer_after", 0)))
        return PublishResult(external_id=f"r{reply_id}", url=link.original.url)

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        platform = self._platform(account)
        platform.record_call("find_link", link.post.marker)
        reply_id = platform.find(link.post.marker)
        return None if reply_id is None else PublishResult(f"r{reply_id}", link.original.url)


class ReadOnlyFakeAdapter(FakeAdapter):
    """The same platform, but the channel cannot edit a published post."""

    supports_update = False


class LimitedAdapter(FakeAdapter):
    """The same platform, five requests a minute per account (normal work may spend four of them)."""

    limits = Limits(text_max=500, requests_per_period=(5, 60.0))

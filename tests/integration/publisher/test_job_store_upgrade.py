"""A job store made by release 0.1.0 (create_all, no migrations), with work in flight, upgraded in place.

The new code stamps it with the baseline revision and upgrades it; every job, sequence, outbox
row and account is still there and behaves as before: leases hold, due jobs are claimable, parked
and published jobs are visible, new jobs get new ids. A second start changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from loa.channels import Post
from loa.events import DeliveryError, ErrorClass, utcnow
from loa.events import DeliveryState as S
from loa.publisher.accounts import AccountStore
from loa.publisher.store import codec
from loa.publisher.store.db import MIGRATIONS, make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.publisher.store.schema import outbox, sequences
from tests.support.release_stores import create_release_store, insert_rows, snapshot

pytestmark = pytest.mark.integration

CHANNEL = "fakechan"


def _naive(t: datetime) -> datetime:
    """How release 0.1.0 stored a time: naive UTC."""
    return t.astimezone(UTC).replace(tzinfo=None)


def _job(n: int, content_id: str, state: S, now: datetime, **columns: Any) -> dict[str, Any]:
    """A job row as release 0.1.0 wrote it; ``n``: its place in insertion order (its id in a new store)."""
    post = Post(content_id=content_id, version=1, channel=CHANNEL, account="chinh", marker=f"m-{n}")
    return {
        "content_id": content_id,
        "version": 1,
        "channel": CHANNEL,
        "account": "chinh",
        "operation": "publish",
        "state": str(state),
        "due_at": _naive(now),
        "attempt": 0,
        "attempt_floor": 0,
        "post": codec.post_to_json(post),
        "result": None,
        "native": False,
        "error": None,
        "note": None,
        "retract_requested": False,
        "parked_version": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "created_at": _naive(now - timedelta(hours=1)),
        "updated_at": _naive(now),
    } | columns


def _work_in_flight(
    now: datetime, cipher: Fernet, parked_error: DeliveryError
) -> dict[str, list[dict[str, Any]]]:
    """One job in each kind of state, their sequence counters, outbox rows sent and not, an account."""
    result = {"external_id": "fb-123", "url": "https://fb.example/123", "extra": {}}
    jobs = [
        _job(1, "in-flight", S.PUBLISHING, now, attempt=1, lease_owner="replica-a",
             lease_expires_at=_naive(now + timedelta(minutes=5))),
        _job(2, "due", S.SCHEDULED, now - timedelta(seconds=1)),
        _job(3, "tomorrow", S.SCHEDULED, now + timedelta(days=1)),
        _job(4, "parked", S.NEEDS_ATTENTION, now, parked_version=2, error=codec.error_to_json(parked_error)),
        _job(5, "done", S.PUBLISHED, now, attempt=1, due_at=None, result=json.dumps(result)),
    ]  # fmt: skip
    outbox_rows = [
        {"key": key, "payload": json.dumps({"n": n}), "created_at": _naive(now), "sent_at": sent}
        for n, key, sent in [(1, "done", _naive(now)), (2, "in-flight", None), (3, "parked", None)]
    ]
    account = {
        "channel": CHANNEL,
        "name": "chinh",
        "credentials": cipher.encrypt(b'{"token": "t0ken"}').decode(),
        "options": '{"page": "p1"}',
        "version": 3,
        "parked_version": None,
        "updated_at": _naive(now),
    }
    return {
        "jobs": jobs,
        "delivery_sequences": [{"delivery_id": f"d-{n}", "last": n + 1} for n in range(1, 6)],
        "outbox": outbox_rows,
        "accounts": [account],
    }


async def test_a_store_of_release_0_1_0_with_work_in_flight_is_upgraded_in_place(db_url: str) -> None:
    now = utcnow().replace(microsecond=0)
    later = now + timedelta(days=1)
    cipher = Fernet(Fernet.generate_key())
    parked_error = codec.make_error(ErrorClass.AUTH, "token expired", code="190")
    engine = make_engine(db_url)
    try:
        await create_release_store(engine, "job_store")
        await insert_rows(engine, _work_in_flight(now, cipher, parked_error))

        await migrate(engine)

        store = JobStore(engine, CHANNEL)
        async with engine.connect() as conn:
            version = (await conn.execute(text(f"SELECT version_num FROM {MIGRATIONS.version_table}"))).all()
            assert version == [("0002",)]  # the baseline stamped, then 0002 (the delivery's host)
            unsent = (await conn.execute(select(outbox).where(outbox.c.sent_at.is_(None)))).all()
            counters = (await conn.execute(select(sequences).order_by(sequences.c.delivery_id))).all()
        assert [(r.key, r.payload, r.created_at) for r in unsent] == [
            ("in-flight", '{"n": 2}', now),
            ("parked", '{"n": 3}', now),
        ]
        assert counters == [(f"d-{n}", n + 1) for n in range(1, 6)]
        # the lease of the job in flight still holds: another replica takes only the due job
        taken = await store.claim("replica-b", limit=10, lease=timedelta(minutes=1))
        assert [(j.id, j.state, j.due_at) for j in taken] == [(2, S.SCHEDULED, now - timedelta(seconds=1))]
        # its owner, restarted with the new release, takes its job in flight back
        (mine,) = await store.claim("replica-a", limit=10, lease=timedelta(minutes=1), reclaim_own=True)
        assert (mine.id, mine.state, mine.attempt, mine.lease_owner) == (1, S.PUBLISHING, 1, "replica-a")
        assert mine.post == Post(
            content_id="in-flight", version=1, channel=CHANNEL, account="chinh", marker="m-1"
        )
        assert await store.next_due() == now - timedelta(seconds=1)
        async with store.tx() as conn:
            (parked,) = await store.parked(conn)
            (done,) = await store.versions(conn, "done")
            (waiting,) = await store.versions(conn, "tomorrow")
            new = await store.create(
                conn, content_id="new", version=1, account="chinh", post=None, state=S.SCHEDULED, due_at=later
            )
        assert (parked.id, parked.parked_version, parked.error) == (4, 2, parked_error)
        assert (done.state, done.result and done.result.external_id) == (S.PUBLISHED, "fb-123")
        assert (waiting.state, waiting.due_at) == (S.SCHEDULED, later)
        assert new is not None and new.id > 5
        account = await AccountStore(engine, CHANNEL, cipher).get("chinh")
        assert account is not None
        assert (account[0].secret("token"), account[0].options, account[1]) == ("t0ken", {"page": "p1"}, 3)

        async with engine.connect() as conn:
            before = await snapshot(conn)
        await migrate(engine)  # the next start
        async with engine.connect() as conn:
            assert await snapshot(conn) == before
    finally:
        await engine.dispose()

"""The runtime without servers: backoff, token bucket, limit checks, job store transitions, accounts."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, select

from loa.archive.payload import sent_payload
from loa.archive.records import sha256_hex
from loa.channels import LimitError, Limits, Post, PublishResult
from loa.channels.limits import check_limits
from loa.events import Content, MediaRef, Priority, Retraction, Target, parse_delivery_status, topics, utcnow
from loa.events import DeliveryState as S
from loa.publisher.accounts import AccountError, AccountStore
from loa.publisher.answers import AnswerWriter
from loa.publisher.backoff import RESET_MARGIN, RESET_SPREAD, backoff_delay, retry_time
from loa.publisher.intake import _first_lane
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.ratelimit import AccountBuckets, TokenBucket, reserved
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore, LostJobError
from loa.publisher.store.schema import jobs, outbox
from loa.text import count_utf8_bytes

pytestmark = pytest.mark.unit


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (10, 60)]:
        delays = [backoff_delay(attempt, base=2, cap=60, rng=rng) for _ in range(500)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9
        assert min(delays) < ceiling * 0.1


def test_retry_time_never_precedes_the_platforms_reset() -> None:
    now = utcnow()
    reset = now + timedelta(seconds=90)
    assert reset < retry_time(now, 1, base=1, cap=5, retry_at=reset) <= reset + timedelta(seconds=5)
    long_ago = now - timedelta(hours=1)
    assert retry_time(now, 1, base=1, cap=5, retry_at=long_ago) <= now + timedelta(seconds=5)


def test_retries_after_a_reset_come_past_it_and_spread_out() -> None:
    """Issue #25: 14 of 15 retries after an X 429 came at the integer reset second and met 429 again.

    X's ``x-rate-limit-reset`` is a whole epoch second (docs.x.com/x-api/fundamentals/rate-limits);
    ``services/x/errors.py`` turns it into ``retry_at``."""
    rng = random.Random(25)
    now = utcnow().replace(microsecond=0)
    reset = now + timedelta(seconds=30)
    times = [retry_time(now, 1, base=0.1, cap=1, retry_at=reset, rng=rng) for _ in range(2000)]
    assert min(times) >= reset + RESET_MARGIN  # never at (nor before) the reset second
    assert max(times) <= reset + RESET_MARGIN + RESET_SPREAD
    same_second = Counter(int(t.timestamp()) for t in times)
    assert max(same_second.values()) < len(times) / 2  # spread over several seconds, not one wave
    offsets = sorted((t - reset - RESET_MARGIN).total_seconds() for t in times)
    assert offsets[len(offsets) // 2] == pytest.approx(RESET_SPREAD.total_seconds() / 2, abs=0.2)


def test_token_bucket_allows_a_burst_then_paces() -> None:
    clock = [0.0]
    bucket = TokenBucket(3, 60.0, clock=lambda: clock[0])
    assert [bucket.try_take() for _ in range(3)] == [0, 0, 0]
    wait = bucket.try_take()
    assert wait == pytest.approx(20.0)
    clock[0] += 20.0
    assert bucket.try_take() == 0
    buckets = AccountBuckets((1, 10.0), clock=lambda: clock[0])
    assert buckets.try_take("a") == 0
    assert buckets.try_take("b") == 0
    assert buckets.try_take("a") > 0
    assert AccountBuckets(None).try_take("a") == 0


def test_normal_work_leaves_the_urgent_reserve_and_urgent_work_may_spend_it() -> None:
    clock = [0.0]
    bucket = TokenBucket(10, 1.0, clock=lambda: clock[0])  # the webhook's 10 a second: 2 kept back
    assert reserved(10) == 2 and reserved(4) == 0 and reserved(100) == 20
    assert [bucket.try_take() for _ in range(8)] == [0] * 8
    wait = bucket.try_take()
    assert wait == pytest.approx(0.1)  # one token more than the reserve, at 10 a second
    assert [bucket.try_take(urgent=True) for _ in range(2)] == [0, 0]
    assert bucket.try_take(urgent=True) == pytest.approx(0.1)
    clock[0] += 0.1
    assert bucket.try_take() > 0  # one token back: still within the reserve
    assert bucket.try_take(urgent=True) == 0


def _post(**kw: object) -> Post:
    return Post(content_id="c1", version=1, channel="tin", account="a", marker="m", **kw)  # type: ignore[arg-type]


def _image(size: int, kind: str = "image/jpeg") -> MediaRef:
    sha = f"{size:064x}"
    return MediaRef(key=f"sha256/{sha}", sha256=sha, content_type=kind, size=size)


def test_limit_checks_name_the_field_and_count_like_the_platform() -> None:
    text = "Đà Nẵng " * 10  # 80 code points, 120 UTF-8 bytes (Đ, à: 2 bytes; ẵ: 3)
    check_limits(_post(texts=[text]), Limits(text_max=80))
    with pytest.raises(LimitError, match=r"text: 120 characters, the channel allows 100"):
        check_limits(_post(texts=[text]), Limits(text_max=100, count=count_utf8_bytes))
    with pytest.raises(LimitError, match=r"texts\[1\]"):
        check_limits(_post(texts=["ngắn", text]), Limits(text_max=50))
    with pytest.raises(LimitError, match="title"):
        check_limits(_post(title="Tiêu đề rất dài"), Limits(title_max=5))
    images = Limits(media_types=frozenset({"image/jpeg"}), image_max_bytes=1000, max_images=1)
    check_limits(_post(media=[_image(1000)]), images)
    with pytest.raises(LimitError, match=r"media\[0\]: 1001 bytes"):
        check_limits(_post(media=[_image(1001)]), images)
    with pytest.raises(LimitError, match="image/png is not accepted"):
        check_limits(_post(media=[_image(10, "image/png")]), images)
    with pytest.raises(LimitError, match="2 images"):
        check_limits(_post(media=[_image(10), _image(11)]), images)


@pytest.fixture
async def store(tmp_path: Path) -> JobStore:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(engine)
    return JobStore(engine, "tin")


async def _events(store: JobStore) -> list[tuple[str, int]]:
    """The status events in the outbox (``loa.delivery.v1``'s rows: no topic of their own)."""
    async with store.engine.connect() as conn:
        query = select(outbox.c.payload).where(outbox.c.topic.is_(None)).order_by(outbox.c.id)
        rows = (await conn.execute(query)).all()
    return [
        (str(e.payload.state), e.payload.sequence) for e in (parse_delivery_status(r.payload) for r in rows)
    ]


async def test_every_state_change_writes_an_outbox_event_in_sequence(store: JobStore) -> None:
    async with store.tx() as conn:
        job = await store.create(
            conn,
            content_id="c1",
            version=1,
            account="a",
            post=_post(texts=["Xin chào"]),
            state=S.SCHEDULED,
            due_at=utcnow(),
        )
        assert job is not None
        again = await store.create(
            conn, content_id="c1", version=1, account="a", post=None, state=S.SCHEDULED, due_at=utcnow()
        )
        assert again is None  # the unique key makes redelivery harmless
    claimed = await store.claim("me", limit=10, lease=timedelta(seconds=30))
    assert [j.id for j in claimed] == [job.id]
    assert await store.claim("other", limit=10, lease=timedelta(seconds=30)) == []  # leased
    async with store.tx() as conn:
        publishing = await store.transition(
            conn,
            claimed[0],
            S.PUBLISHING,
            owner="me",
            attempt=1,
            lease_owner="me",
            lease_expires_at=utcnow() + timedelta(seconds=30),
        )
        with pytest.raises(LostJobError):
            await store.transition(conn, claimed[0], S.CANCELLED)  # it is no longer `scheduled`
    async with store.tx() as conn:
        with pytest.raises(LostJobError):
            await store.transition(conn, publishing, S.PUBLISHED, owner="someone-else")
    async with store.tx() as conn:
        await store.transition(conn, publishing, S.PUBLISHED, owner="me")
    assert await _events(store) == [("scheduled", 1), ("publishing", 2), ("published", 3)]


async def test_an_attempts_start_writes_what_it_sends_beside_the_event_that_names_it(store: JobStore) -> None:
    """The attempt's ``publishing`` event and the payload it names are one transaction's rows, so
    the archive gets the payload if and only if the event goes out (loa.payload.v1); later events
    name the same hash and write nothing more."""
    post = _post(texts=["Đà Nẵng: thông báo lịch tiếp công dân tháng 12"])
    async with store.tx() as conn:
        job = await store.create(
            conn, content_id="c1", version=1, account="a", post=post, state=S.SCHEDULED, due_at=utcnow()
        )
        assert job is not None
        publishing = await store.transition(conn, job, S.PUBLISHING, attempt=1)
        await store.transition(conn, publishing, S.PUBLISHED)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
    assert [r.topic for r in rows] == [None, None, topics.PAYLOAD, None]
    named = parse_delivery_status(rows[1].payload).payload.payload_sha256
    assert rows[2].key == named == sha256_hex(rows[2].payload.encode())
    assert rows[2].payload.encode() == sent_payload(post)
    assert parse_delivery_status(rows[3].payload).payload.payload_sha256 == named


async def test_a_new_job_and_its_claim_take_a_few_statements_and_keep_every_event(store: JobStore) -> None:
    """Issue #20: each statement costs the async SQLAlchemy layer ~0.1 ms of CPU on the hot path.
    A new job is inserted in its first state with that state's event (its ``received``, moved
    from in memory, was never stored: no event), and a claim writes the jobs it starts once,
    without reading them again (docs/benchmarks.md, "The webhook publisher alone")."""
    statements: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def count(conn: object, cursor: object, sql: str, *args: object) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            statements.append(sql.split(None, 1)[0].upper())

    async with store.tx() as conn:
        await store.create(
            conn, content_id="c9", version=1, account="a", post=_post(), state=S.SCHEDULED, due_at=utcnow()
        )
    # the job in its first state (insert), its sequence (one upsert), its event (one insert)
    assert Counter(statements) == {"INSERT": 3}
    statements.clear()
    started = await store.claim("ich", limit=5, lease=timedelta(seconds=30), start=lambda job: True)
    # due jobs (read), the started one (update), its sequence (upsert), its event (insert)
    assert Counter(statements) == {"SELECT": 1, "UPDATE": 1, "INSERT": 2}
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.id == started[0].id))).one()
    assert (row.state, row.attempt, row.lease_owner) == (str(S.PUBLISHING), 1, "ich")
    assert row.lease_expires_at is not None
    assert await _events(store) == [("scheduled", 1), ("publishing", 2)]


async def test_a_publishing_job_with_an_expired_lease_is_claimed_as_in_doubt(store: JobStore) -> None:
    async with store.tx() as conn:
        job = await store.create(
            conn, content_id="c2", version=1, account="a", post=_post(), state=S.SCHEDULED, due_at=utcnow()
        )
        assert job is not None
        await store.transition(
            conn,
            job,
            S.PUBLISHING,
            attempt=1,
            lease_owner="dead",
            lease_expires_at=utcnow() - timedelta(seconds=1),
        )
    taken = await store.claim("me", limit=10, lease=timedelta(seconds=30))
    assert [(j.state, j.lease_owner) for j in taken] == [(S.PUBLISHING, "me")]


async def test_credentials_are_encrypted_at_rest_versioned_and_never_listed(tmp_path: Path) -> None:
    path = tmp_path / "acc.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine)
    accounts = AccountStore(engine, "x", Fernet(Fernet.generate_key()))
    await accounts.add("so-tt", {"token": "bí-mật-123"}, {"page_id": "42"})
    with pytest.raises(AccountError, match="exists"):
        await accounts.add("so-tt", {"token": "t"}, {})
    raw = sqlite3.connect(path).execute("SELECT credentials FROM accounts").fetchone()[0]
    assert "bí-mật" not in raw and "token" not in raw
    # a Fernet token (version byte 0x80): not `"123" not in raw`, which 1 ciphertext in ~1,700 fails
    assert raw.startswith("gAAAAA")
    assert await accounts.update("so-tt", credentials={"token": "mới"}) == 2
    found = await accounts.get("so-tt")
    assert found is not None
    assert found[0].secret("token") == "mới"
    assert found[1] == 2
    assert "mới" not in repr(found[0])
    [info] = await accounts.list()
    assert info.credential_names == ("token",)
    assert info.version == 2
    assert "mới" not in repr(info)
    other_key = AccountStore(engine, "x", Fernet(Fernet.generate_key()))
    with pytest.raises(AccountError, match="LOA_CREDENTIALS_KEY"):
        await other_key.get("so-tt")
    await accounts.remove("so-tt")
    assert await accounts.list() == []
    await engine.dispose()


async def test_accounts_seed_from_yaml_with_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acc.db'}")
    await migrate(engine)
    accounts = AccountStore(engine, "x", Fernet(Fernet.generate_key()))
    monkeypatch.setenv("X_TOKEN", "từ-môi-trường")
    seed = tmp_path / "accounts.yaml"
    seed.write_text(
        json.dumps(
            {
                "accounts": [
                    {
                        "channel": "x",
                        "name": "bo-tt",
                        "credentials": {"token": "${X_TOKEN}"},
                        "options": {"lang": "vi"},
                    },
                    {"channel": "facebook", "name": "other", "credentials": {"token": "t"}},
                ]
            }
        ),
        encoding="utf-8",
    )
    assert await accounts.seed(seed) == 1
    assert await accounts.seed(seed) == 0  # unchanged: no new version
    found = await accounts.get("bo-tt")
    assert found is not None
    assert found[0].secret("token") == "từ-môi-trường"
    assert found[1] == 1
    await engine.dispose()


def test_intake_takes_urgent_contents_and_retractions_first_keeping_each_contents_order() -> None:
    def made(cid: str, priority: Priority = Priority.NORMAL) -> Content:
        return Content(
            id=cid,
            version=1,
            title="Cảnh báo lũ quét tại Đắk Lắk",
            unit="Văn phòng Bộ",
            approved_by="Nguyễn Thị Đào",
            approved_at=utcnow(),
            targets=[Target(channel="website", account="main")],
            priority=priority,
        )

    normal, urgent = made("lich-tiep-dan"), made("canh-bao-lu", Priority.URGENT)
    late_urgent = made("dinh-chinh", Priority.URGENT)
    gone = Retraction(id="bai-cu", reason="Sai số liệu", requested_by="Trần Văn Đức")
    after_its_approval = Retraction(id="dinh-chinh", reason="Đăng nhầm", requested_by="Trần Văn Đức")
    batch: list[Content | Retraction] = [normal, late_urgent, urgent, gone, after_its_approval]
    first, rest = _first_lane(batch)
    assert first == [late_urgent, urgent, gone]
    assert rest == [normal, after_its_approval]  # its retraction stays after the approval it follows


async def test_an_answer_wakes_the_dispatcher_only_for_a_take_down_due_at_once(store: JobStore) -> None:
    """Issue #20: an answer frees a slot, which the dispatcher already waits for when its slots are
    full, so waking it after every answer made a claim that found nothing. A job asked to retract
    while its call was in flight is due at once, though: that answer still wakes it."""
    wake = asyncio.Event()
    answers = AnswerWriter(store, "me", RuntimeMetrics("tin"), wake)
    lease = timedelta(seconds=30)
    async with store.tx() as conn:
        for content_id in ("c1", "c2"):
            await store.create(
                conn, content_id=content_id, version=1, account="a", post=_post(), state=S.SCHEDULED,
                due_at=utcnow(),
            )  # fmt: skip
    first, second = await store.claim("me", limit=2, lease=lease, start=lambda job: True)
    await answers.record(first, PublishResult(external_id="p1"))
    assert not wake.is_set()
    async with store.tx() as conn:  # intake's flag on a job in `publishing`
        second = await store.set_quietly(conn, second, owner=None, retract_requested=True)
    await answers.record(second, PublishResult(external_id="p2"))
    assert wake.is_set()
    async with store.engine.connect() as conn:
        states = dict((await conn.execute(select(jobs.c.content_id, jobs.c.state))).all())
    assert states == {"c1": str(S.PUBLISHED), "c2": str(S.RETRACTING)}

"""The urgent lane on real Kafka and both job stores: urgent content and a retraction's take-downs
are claimed before an earlier-due normal backlog, and get through on the share of the account's
rate budget that normal work leaves them."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from publisher_fake import FakePlatform, LimitedAdapter
from publisher_helpers import Watcher, approved, content, did, retracted, send_content

from loa.channels import Post
from loa.events import DeliveryState as S
from loa.events import Priority, utcnow
from loa.publisher.job import NewJob
from loa.publisher.lifecycle import Move
from loa.publisher.ratelimit import reserved, reserved_slots
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore

pytestmark = pytest.mark.integration

BACKLOG = 300
THROUGH_WITHIN_S = 10.0
"""Well under the 12 s a normal post waits for a token once normal work has spent its share (5 a
minute, 1 kept): what gets through sooner did not wait behind the backlog."""


def _post(cid: str) -> Post:
    return Post(content_id=cid, version=1, channel="fakechan", account="chinh", marker=f"loa:{cid}")


def _job(cid: str, due_in: timedelta, priority: Priority = Priority.NORMAL) -> NewJob:
    return NewJob(cid, 1, "chinh", _post(cid), S.SCHEDULED, utcnow() + due_in, priority=priority)


async def test_urgent_and_retracting_jobs_are_claimed_before_an_earlier_due_normal_backlog(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    await migrate(engine)
    store = JobStore(engine, "fakechan")
    try:
        backlog = [_job(f"ban-tin-{i}", timedelta(hours=-1, seconds=i)) for i in range(BACKLOG)]
        async with store.tx() as conn:
            await store.create_many(conn, backlog)
            published = (await store.create_many(conn, [_job("bai-da-dang", timedelta(hours=-2))]))[0]
            assert published is not None
            await store.transition_many(conn, [Move(published, S.PUBLISHING, {"attempt": 1})], owner=None)
        async with store.tx() as conn:
            [online] = await store.versions(conn, "bai-da-dang", "chinh")
            online = await store.transition(conn, online, S.PUBLISHED, due_at=None)
            await store.transition(conn, online, S.RETRACTING, due_at=utcnow(), retract_requested=True)
            await store.create_many(conn, [_job("khan-lu-quet", timedelta(0), Priority.URGENT)])
        first = await store.claim("test-a", limit=2, lease=timedelta(minutes=1))
        assert {j.content_id for j in first} == {"khan-lu-quet", "bai-da-dang"}
        assert next(j for j in first if j.content_id == "khan-lu-quet").priority is Priority.URGENT
        then = await store.claim("test-a", limit=3, lease=timedelta(minutes=1))
        assert [j.content_id for j in then] == ["ban-tin-0", "ban-tin-1", "ban-tin-2"]  # due order
    finally:
        await engine.dispose()


async def test_urgent_content_and_a_retraction_go_through_while_normal_work_has_spent_its_share(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    normal_share = 5 - reserved(5)
    assert normal_share == 4
    await start_publisher(LimitedAdapter)
    normal = [content(f"thong-bao-{i}", title=f"Thông báo số {i} về lịch tiếp dân") for i in range(8)]
    await send_content(pub_settings, *(approved(c) for c in normal))
    published = lambda: [c.id for c in normal if S.PUBLISHED in watcher.states(did(c.id))]  # noqa: E731
    await watcher.until(lambda: len(published()) == normal_share, what="normal work spends its share")
    urgent = content(
        "khan-canh-bao-lu",
        title="KHẨN: Cảnh báo lũ quét tại Đắk Lắk, Đà Nẵng",
        priority=Priority.URGENT,
    )
    started = time.monotonic()
    await send_content(pub_settings, approved(urgent))
    await watcher.until_state(did(urgent.id), S.PUBLISHED, timeout=THROUGH_WITHIN_S)
    urgent_s = time.monotonic() - started
    online = published()[0]
    started = time.monotonic()
    await send_content(pub_settings, retracted(online))
    await watcher.until_state(did(online), S.RETRACTED, timeout=THROUGH_WITHIN_S)
    retract_s = time.monotonic() - started
    assert len(published()) == normal_share, published()  # the rest of the backlog still waits its turn
    markers = [row[1] for row in platform.posts()]
    assert "loa:khan-canh-bao-lu" in markers
    assert len(markers) == normal_share + 1
    assert [row[5] for row in platform.posts() if row[1] == f"loa:{online}"] == [1]  # taken down
    assert urgent_s < THROUGH_WITHIN_S and retract_s < THROUGH_WITHIN_S  # (until_state's bound too)


async def test_an_urgent_post_takes_a_reserved_slot_while_normal_calls_fill_the_others(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    five = pub_settings.model_copy(update={"publisher_concurrency": 5})
    assert reserved_slots(5) == 1
    pub = await start_publisher(settings=five)
    await pub.accounts.add("cham", {"token": "ok"}, {"platform": platform.path, "answer_after": 20})
    slow = ("cham",)
    normal = [content(f"tin-thuong-{i}", accounts=slow) for i in range(8)]
    await send_content(pub_settings, *(approved(c) for c in normal))
    await watcher.until(lambda: platform.calls("publish") == 4, what="normal calls fill their 4 slots")
    urgent = content(
        "khan-so-tan-dan", title="KHẨN: Sơ tán dân vùng lũ", priority=Priority.URGENT
    )  # to the fast account: the slots are the publisher's, shared by its accounts
    await send_content(pub_settings, approved(urgent))
    await watcher.until_state(did(urgent.id), S.PUBLISHED, timeout=THROUGH_WITHIN_S)
    with platform._db() as db:
        order = [row[0] for row in db.execute("SELECT marker FROM calls WHERE op = 'publish' ORDER BY id")]
    assert order.index(f"loa:{urgent.id}") == 4, order  # at once, not after a normal call ended
    assert not any(S.PUBLISHED in watcher.states(did(c.id, "cham")) for c in normal)  # all still going


async def test_no_normal_call_starts_while_an_urgent_one_is_in_flight(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    """Normal calls that end while the urgent one runs free their slots, but the dispatcher starts
    none until the urgent call has answered: on a loaded machine every normal call in flight slows
    the urgent one down (docs/benchmarks.md, "Urgent lane and retraction")."""
    five = pub_settings.model_copy(update={"publisher_concurrency": 5})
    pub = await start_publisher(settings=five)
    await pub.accounts.add("cham", {"token": "ok"}, {"platform": platform.path, "answer_after": 1.5})
    await pub.accounts.add("khan", {"token": "ok"}, {"platform": platform.path, "answer_after": 5})
    normal = [content(f"lich-tiep-dan-{i}", accounts=("cham",)) for i in range(12)]
    await send_content(pub_settings, *(approved(c) for c in normal))
    await watcher.until(lambda: platform.calls("publish") == 4, what="normal calls fill their 4 slots")
    urgent = content(
        "khan-dong-dat", title="KHẨN: Động đất tại Kon Tum", accounts=("khan",), priority=Priority.URGENT
    )
    await send_content(pub_settings, approved(urgent))
    await watcher.until_state(did(urgent.id, "khan"), S.PUBLISHED, timeout=THROUGH_WITHIN_S)
    with platform._db() as db:
        calls = [(op, marker) for op, marker in db.execute("SELECT op, marker FROM calls ORDER BY id")]
    marker = f"loa:{urgent.id}"
    during = calls[calls.index(("publish", marker)) + 1 : calls.index(("answered", marker))]
    assert [c for c in during if c[0] == "answered"], calls  # normal calls did end meanwhile
    assert not [c for c in during if c[0] == "publish"], calls  # and none started
    for c in normal:  # then normal work goes on
        await watcher.until_state(did(c.id, "cham"), S.PUBLISHED, timeout=60)

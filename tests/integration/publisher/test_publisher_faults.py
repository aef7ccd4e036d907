"""Errors, parking, in-doubt recovery, dead letters and the HTTP endpoints."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from publisher_fake import FAKE_HOST, FakeAdapter, FakePlatform
from publisher_helpers import Watcher, approved, content, did, retracted, retry, send_content
from sqlalchemy import update

from loa.events import DeliveryState as S
from loa.events import ErrorClass, topics, utcnow
from loa.kafka_security import client_security
from loa.publisher import dispatcher, parking
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.codec import post_to_json
from loa.publisher.store.schema import jobs
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration


async def test_auth_error_parks_the_account_until_its_credentials_change(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    pub = await start_publisher(token="expired")
    batch = [content(f"tb-auth-{i}") for i in range(5)]
    await send_content(pub_settings, *[approved(c) for c in batch])
    for c in batch:
        parked = await watcher.until_state(did(c.id), S.NEEDS_ATTENTION)
        assert parked.error is not None
        assert parked.error.error_class is ErrorClass.AUTH
    await asyncio.sleep(0.5)
    # No retry storm: at most one call per job that was in flight when the platform refused.
    refused = platform.calls("publish")
    assert 1 <= refused <= pub_settings.publisher_concurrency
    await asyncio.sleep(1.0)
    assert platform.calls("publish") == refused
    infos = await pub.accounts.list()
    assert infos[0].parked

    await pub.accounts.update("chinh", credentials={"token": "mới-hợp-lệ"})
    for c in batch:
        await watcher.until_state(did(c.id), S.PUBLISHED)
    assert len(platform.posts()) == 5


async def test_a_retry_right_after_new_credentials_goes_out_with_them(
    start_publisher,
    pub_settings: PublisherSettings,
    platform: FakePlatform,
    watcher: Watcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the retry's claim can see the new version: the dispatcher's periodic reads of account
    # versions and its resumption of parked jobs do not come round during the test (both happened
    # within 0.5 and 1 s, and a retry claimed in between parked the job again: CI, session 36).
    monkeypatch.setattr(parking, "ACCOUNTS_REFRESH_SECONDS", 3600.0)
    monkeypatch.setattr(dispatcher, "RESUME_CHECK_SECONDS", 3600.0)
    pub = await start_publisher(token="expired")
    c = content("tb-retry-new-token", title="Đính chính thông tin về lịch tiếp công dân")
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.NEEDS_ATTENTION)
    cache = pub.dispatcher.parking.cache  # what the retry's claim goes by unless it reads again

    def parked_in_cache() -> bool:
        return "chinh" in cache.versions and cache.versions["chinh"].parked

    await watcher.until(parked_in_cache, 10, "the dispatcher's cache has the account parked")

    await pub.accounts.update("chinh", credentials={"token": "mới-hợp-lệ"})
    await pub.intake.command(retry(c.id))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    assert platform.calls("publish") == 2  # refused with the old token, then once with the new
    assert len(platform.posts()) == 1


async def test_rate_limit_with_reset_delays_without_failing(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    platform.add_fault("publish", "transient", times=2, retry_after=1.5)
    c = content("tb-rate-1")
    started = utcnow()
    await send_content(pub_settings, approved(c))
    retrying = await watcher.until_state(did(c.id), S.RETRYING)
    assert retrying.error is not None
    assert retrying.error.code == "429"
    assert retrying.due_at is not None
    assert retrying.due_at >= started + timedelta(seconds=1.4)
    assert retrying.target_host == FAKE_HOST  # a refused call went somewhere too
    last = await watcher.until_state(did(c.id), S.PUBLISHED, timeout=20)
    assert utcnow() - started >= timedelta(seconds=3)  # two resets honoured
    assert last.attempt == 3
    assert S.FAILED not in watcher.states(did(c.id))
    assert len(platform.posts()) == 1


async def test_a_timeout_after_the_platform_accepted_is_settled_by_find_existing_never_sent_twice(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    """What the chaos run found under load (docs/benchmarks.md): a webhook receiver answering after
    the timeout got the same post again at each retry. A timeout after sending is in doubt."""
    await start_publisher()
    platform.add_fault("answer", "timeout")
    c = content("tb-timeout-1")
    await send_content(pub_settings, approved(c))
    last = await watcher.until_state(did(c.id), S.PUBLISHED, timeout=40)
    assert len(platform.posts()) == 1
    assert platform.calls("publish") == 1
    assert platform.calls("find") >= 1
    assert last.external_id == str(platform.find(f"loa:{c.id}"))
    assert S.RETRYING not in watcher.states(did(c.id))


async def test_permanent_error_fails_with_the_platform_code(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    platform.add_fault("publish", "permanent")
    c = content("tb-perm-1")
    await send_content(pub_settings, approved(c))
    failed = await watcher.until_state(did(c.id), S.FAILED)
    assert failed.error is not None
    assert failed.error.code == "100"
    assert failed.error.message == "refused by the platform"
    assert failed.target_host == FAKE_HOST


async def _leave_in_publishing(pub, c):
    """What a SIGKILL after the `publishing` write leaves: the job in `publishing`, leased by this replica."""
    from loa.channels import Post

    post = Post(
        content_id=c.id,
        version=1,
        channel="fakechan",
        account="chinh",
        marker=f"loa:{c.id}",
        title=c.title,
        texts=["Bài viết dở dang"],
    )
    async with pub.store.tx() as conn:
        job = await pub.store.create(
            conn, content_id=c.id, version=1, account="chinh", post=post, state=S.SCHEDULED, due_at=utcnow()
        )
        job = await pub.store.transition(conn, job, S.PUBLISHING, attempt=1)
        await conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(
                lease_owner=pub.dispatcher.owner,
                lease_expires_at=utcnow() + timedelta(minutes=5),
                post=post_to_json(post),
            )
        )
    return post


@pytest.mark.parametrize("already_there", [True, False])
async def test_in_doubt_job_is_resolved_by_find_existing(
    start_publisher,
    pub_settings: PublisherSettings,
    platform: FakePlatform,
    watcher: Watcher,
    already_there: bool,
) -> None:
    from loa.publisher.main import Publisher
    from loa.publisher.store.db import migrate

    c = content(f"tb-doubt-{int(already_there)}")
    # Before the "restart": the job store as a killed process left it.
    before = Publisher(FakeAdapter, pub_settings)
    await migrate(before.engine)
    await before.accounts.add("chinh", {"token": "ok"}, {"platform": platform.path})
    post = await _leave_in_publishing(before, c)
    await before.engine.dispose()
    if already_there:
        platform.accept(post)

    await start_publisher()  # same replica id: it takes its in-doubt job back at once
    last = await watcher.until_state(did(c.id), S.PUBLISHED, timeout=15)
    assert platform.calls("find") >= 1
    assert len(platform.posts()) == 1
    if already_there:
        assert platform.calls("publish") == 0
        assert last.note
        assert "found on the platform" in last.note
    else:
        assert platform.calls("publish") == 1
        assert S.RETRYING in watcher.states(did(c.id))


async def test_invalid_message_is_skipped_without_a_dead_letter_and_intake_goes_on(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    """The tracker's group owns the content topic's dead letters; a publisher writing its own
    would make one copy per consumer group (tests/integration/publisher/test_bad_content_dead_letters.py)."""
    await start_publisher()
    producer = AIOKafkaProducer(
        bootstrap_servers=pub_settings.kafka_bootstrap, **client_security(pub_settings)
    )
    await producer.start()
    bad = approved(content("tb-bad-1")).model_dump(mode="json")
    del bad["payload"]["title"]
    import json

    await producer.send_and_wait(
        pub_settings.topic(topics.CONTENT), json.dumps(bad).encode(), key=b"tb-bad-1"
    )
    await producer.stop()
    good = content("tb-good-1")
    await send_content(pub_settings, approved(good))
    await watcher.until_state(did(good.id), S.PUBLISHED)
    assert [post[2] for post in platform.posts()] == [good.id]
    dead = await read_topic(
        pub_settings.kafka_bootstrap, pub_settings.topic(topics.dlq(topics.CONTENT)), 0, 2
    )
    assert dead == []


async def test_healthz_and_metrics(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    gauge_seconds = 0.2  # the gauges' refresh (5 s by default), short so that the test waits little
    pub = await start_publisher(
        settings=pub_settings.model_copy(update={"publisher_gauge_seconds": gauge_seconds})
    )
    c = content("tb-metrics-1")
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    expected = (
        'loa_publisher_jobs{state="published"} 1.0',
        "loa_publisher_publish_seconds_count 1.0",
        "loa_publisher_consumer_lag 0.0",
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pub.port}") as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ready"
        deadline = asyncio.get_running_loop().time() + 5.0  # many refreshes: the lag is 0 once committed
        while True:
            text = (await client.get("/metrics")).text
            if all(line in text for line in expected) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(gauge_seconds)
    for line in expected:
        assert line in text


async def test_retraction_during_the_platform_call_stops_it_and_takes_down_what_it_made(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    """Issue #25, point 3: the dispatcher notices the retraction of a job in `publishing`, stops
    its platform work, and the retraction takes down what the platform had made by then."""
    pub = await start_publisher()
    await pub.accounts.update("chinh", options={"answer_after": 60})  # the call goes on for a minute
    c = content("tb-rut-lai-giua-chung")
    await send_content(pub_settings, approved(c))
    await watcher.until(lambda: len(platform.posts()) == 1, what="the post made on the platform")

    await send_content(pub_settings, retracted(c.id))

    await watcher.until_state(did(c.id), S.RETRACTED, timeout=15)  # not after the minute
    assert [p[5] for p in platform.posts()] == [1]  # deleted
    assert S.PUBLISHED not in watcher.states(did(c.id))

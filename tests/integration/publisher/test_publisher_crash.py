"""SIGKILL at random moments during a burst: every post goes exactly once; two replicas share a burst.

The fake platform counts every request it accepts, without deduplication, so the proof rests on
the runtime. ``LOA_CRASH_POSTS`` raises the burst (the issue's 500) for a longer run.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from publisher_fake import FakeAdapter, FakePlatform
from publisher_helpers import Watcher, approved, content, did, send_content

from loa.events import DeliveryState as S
from loa.publisher.main import Publisher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import migrate
from loa.settings import CHECKOUT_PYTHONPATH

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
POSTS = int(os.environ.get("LOA_CRASH_POSTS", "100"))
MAX_KILLS = int(os.environ.get("LOA_CRASH_KILLS", "8"))


async def _seed_account(settings: PublisherSettings, platform: FakePlatform, **options: float) -> None:
    pub = Publisher(FakeAdapter, settings)
    await migrate(pub.engine)
    options = {"accept_delay": 0.05, **options}
    await pub.accounts.add("chinh", {"token": "ok"}, {"platform": platform.path, **options})
    await pub.engine.dispose()


STARTED = "started (metrics on port"
"""What ``Publisher.start`` logs once its dispatcher runs (at INFO)."""


def _spawn(
    settings: PublisherSettings, replica: str, log: Path, level: str = "WARNING", lease_seconds: int = 10
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([CHECKOUT_PYTHONPATH, str(HERE)]),
        "LOA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "LOA_TOPIC_PREFIX": settings.topic_prefix,
        "LOA_PUBLISHER_DATABASE_URL": settings.job_store_url("fakechan"),
        "LOA_CREDENTIALS_KEY": settings.credentials_key.get_secret_value(),
        "LOA_PUBLISHER_PORT": "0",
        "LOA_PUBLISHER_REPLICA_ID": replica,
        "LOA_PUBLISHER_POLL_SECONDS": "0.05",
        "LOA_PUBLISHER_LEASE_SECONDS": str(lease_seconds),
        "LOA_PUBLISHER_BACKOFF_BASE_SECONDS": "0.05",
        "LOA_PUBLISHER_BACKOFF_CAP_SECONDS": "0.5",
        "LOA_LOG_LEVEL": level,
    }
    return subprocess.Popen(
        [sys.executable, str(HERE / "publisher_service.py")],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _all_published(watcher: Watcher, ids: list[str]) -> bool:
    return all((last := watcher.last(did(i))) is not None and last.state is S.PUBLISHED for i in ids)


def _assert_exactly_once(platform: FakePlatform, ids: list[str]) -> None:
    per_marker = Counter(p[1] for p in platform.posts())
    twice = {m: n for m, n in per_marker.items() if n > 1}
    assert not twice, f"posted more than once: {twice}"
    assert set(per_marker) == {f"loa:{i}" for i in ids}, "some posts were lost"


async def test_sigkill_during_a_burst_never_posts_twice_nor_loses_one(
    pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher, tmp_path: Path
) -> None:
    await _seed_account(pub_settings, platform)
    ids = [f"tb-crash-{i:04d}" for i in range(POSTS)]
    log = tmp_path / "publisher.log"
    proc = _spawn(pub_settings, "crash", log)
    await send_content(pub_settings, *[approved(content(i)) for i in ids])
    kills = 0
    rng = random.Random()
    try:
        while not _all_published(watcher, ids) and kills < MAX_KILLS:
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            proc = _spawn(pub_settings, "crash", log)
        await watcher.until(
            lambda: _all_published(watcher, ids), timeout=120, what="every delivery published"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert kills >= 1
    _assert_exactly_once(platform, ids)
    assert platform.calls("publish") >= POSTS  # a refused or interrupted call may add, never a post
    for i in ids:
        states = watcher.states(did(i))
        assert states[-1] is S.PUBLISHED, (i, states)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_replicas_on_postgresql_share_a_burst_without_double_posting(
    pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher, tmp_path: Path
) -> None:
    await _seed_account(pub_settings, platform)
    ids = [f"tb-pair-{i:04d}" for i in range(POSTS)]
    logs = [tmp_path / f"{name}.log" for name in ("replica-a", "replica-b")]
    replicas = [_spawn(pub_settings, log.stem, log, level="INFO") for log in logs]
    try:
        # both dispatchers run before the burst (the commands topic has one partition here: the
        # replica without it dispatches as soon as the group has assigned it nothing)
        await watcher.until(
            lambda: all(log.exists() and STARTED in log.read_text() for log in logs),
            timeout=60,
            what="both replicas started",
        )
        await send_content(pub_settings, *[approved(content(i)) for i in ids])
        await watcher.until(
            lambda: _all_published(watcher, ids), timeout=120, what="every delivery published"
        )
    finally:
        for proc in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc in replicas:
            proc.wait(timeout=30)
    _assert_exactly_once(platform, ids)
    assert platform.calls("publish") == POSTS
    assert len(platform.callers("publish")) == 2, "both replicas took part"

"""The job store goes down at the end of a platform call: the job comes back as soon as the store
answers, not a whole lease later.

Found by `make drill` (docs/drills.md, `database_outage`: 40 s to recover from a 20 s outage): a
YouTube upload's last step reads the store (is the content retracted?), PostgreSQL was going down,
the dispatcher could not record the error either, and the job, still leased by the replica that
had dropped it, waited for its 60 s lease to expire.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import create_topics, publisher_settings
from publisher_helpers import Watcher, approved, content, did, send_content

from loa.channels import Account, Post, PublishResult
from loa.events import DeliveryState as S
from loa.publisher.main import Publisher
from loa.publisher.store.db import migrate
from loa.settings import LoaSettings
from loa.testing.private_stack import PrivateStack
from tests.integration.publisher.publisher_fake import FakeAdapter, FakePlatform

pytestmark = pytest.mark.integration

LEASE_S = 60.0
"""The default lease: what the job waited for after the outage."""
BACK_WITHIN_S = 20.0
"""From the store answering again until the delivery is published (a lease is three times that)."""


class LastStepReadsTheStore(FakeAdapter):
    """Publishes, then (as YouTube's last step does) asks the job store whether the content was
    retracted meanwhile; the store goes down in between."""

    store_down: asyncio.Event

    async def publish(self, post: Post, account: Account) -> PublishResult:
        result = await super().publish(post, account)
        await self.store_down.wait()
        await self.context.retract_requested(post)
        return result


async def test_a_job_cut_short_by_a_store_outage_comes_back_when_the_store_does(
    settings: LoaSettings, tmp_path: Path, kafka_admin: Any, platform: FakePlatform
) -> None:
    LastStepReadsTheStore.store_down = asyncio.Event()
    with PrivateStack.started(tmp_path, "postgres") as pg:
        ps = publisher_settings(settings, pg.pg_url(), publisher_lease_seconds=LEASE_S)
        await create_topics(kafka_admin, ps)
        watcher = await Watcher(ps).start()
        pub = Publisher(LastStepReadsTheStore, ps)
        try:
            await migrate(pub.engine)
            await pub.accounts.add("chinh", {"token": "ok"}, {"platform": platform.path})
            await pub.start()
            c = content("tb-mat-csdl-cuoi-buoc")
            await send_content(ps, approved(c))
            await watcher.until(lambda: len(platform.posts()) == 1, what="the post on the platform")

            await asyncio.to_thread(pg.stop, "postgres")
            LastStepReadsTheStore.store_down.set()
            await asyncio.sleep(2.0)  # the call ends, its error cannot be recorded either
            await asyncio.to_thread(pg.start, "postgres")
            back = time.monotonic()

            await watcher.until_state(did(c.id), S.PUBLISHED, timeout=BACK_WITHIN_S)
            assert time.monotonic() - back < BACK_WITHIN_S
        finally:
            await pub.stop()  # before its PostgreSQL goes away
            await watcher.stop()
    assert [p[1] for p in platform.posts()] == [f"loa:{c.id}"]  # found again, never posted twice
    assert S.FAILED not in watcher.states(did(c.id))

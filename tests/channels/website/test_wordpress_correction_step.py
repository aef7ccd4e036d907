"""A correction on a WordPress account through the publisher's runtime (intake, dispatcher, a job
store on SQLite) against the sandbox's WordPress emulator: the link step is a delivery of its own
(``<account>~đính-chính``), made once across a replayed event, and ends ``cancelled`` when the
original never went out on that account, as on the social channels."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from loa.channels.corrections import ORIGINAL_NOT_PUBLISHED, link_account
from loa.events import Content, utcnow
from loa.publisher.accounts import AccountStore
from loa.publisher.dispatcher import Dispatcher
from loa.publisher.intake import Intake
from loa.publisher.job import Job
from loa.publisher.lifecycle import S
from loa.publisher.metrics import RuntimeMetrics
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import make_engine, migrate
from loa.publisher.store.jobs import JobStore
from loa.testing.context import FakeContext
from services.sandbox import wordpress as emulator
from services.sandbox.client import SandboxClient
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.channels.website.test_wordpress_corrections import PASSWORD, TITLE
from tests.support.corrections import as_correction
from tests.website_support import article

pytestmark = pytest.mark.integration

NOTICE = re.compile(r'<aside class="correction-notice"')
WAIT_S = 20.0


@dataclass
class Runtime:
    intake: Intake
    store: JobStore

    async def jobs(self, content_id: str, account: str) -> list[Job]:
        async with self.store.tx() as conn:
            return await self.store.versions(conn, content_id, account)

    async def until(self, content_id: str, account: str, *states: S) -> Job:
        """The newest job of (content, account) once it is in one of ``states``."""
        async with asyncio.timeout(WAIT_S):
            while True:
                jobs = await self.jobs(content_id, account)
                if jobs and jobs[-1].state in states:
                    return jobs[-1]
                await asyncio.sleep(0.05)


@pytest.fixture
async def runtime(sandbox: SandboxClient, sandbox_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The website publisher's runtime with the accounts ``wp`` (WordPress) and ``main`` (static)."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(engine)
    key = Fernet.generate_key()
    settings = PublisherSettings(credentials_key=key.decode(), publisher_poll_seconds=0.05)
    store = JobStore(engine, "website")
    accounts = AccountStore(engine, "website", Fernet(key))
    await accounts.add("wp", {"username": "bientap", "application_password": PASSWORD}, {"mode": "wordpress"})
    await accounts.add("main", {}, {"mode": "static"})
    adapter = WebsiteAdapter(FakeContext(), WebsiteSettings(website_wordpress_url=f"{sandbox_url}/wordpress"))
    dispatcher = Dispatcher(adapter, store, accounts, settings, RuntimeMetrics("website"))
    running = asyncio.create_task(dispatcher.run())
    try:
        yield Runtime(Intake(adapter, store, accounts, on_due=dispatcher.wake.set), store)
    finally:
        await dispatcher.stop(grace=5)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await adapter.aclose()
        await engine.dispose()


def content_of(external_id: str) -> str:
    return str(emulator.state.posts[int(external_id)]["content"])


async def test_the_link_step_is_its_own_delivery_and_a_replay_links_nothing_again(runtime: Runtime) -> None:
    original = article("01JD5Z8Q4M9R3T7V2X6YWPRRT1", account="wp")
    correction = as_correction(article("01JD5Z8Q4M9R3T7V2X6YWPRRT1", account="wp"), original.id, TITLE)
    await runtime.intake.take_in([original])
    first = await runtime.until(original.id, "wp", S.PUBLISHED)
    await runtime.intake.take_in([correction])
    own = await runtime.until(correction.id, "wp", S.PUBLISHED)
    step = await runtime.until(correction.id, link_account("wp"), S.PUBLISHED, S.FAILED, S.CANCELLED)
    assert step.state is S.PUBLISHED and step.account == "wp~đính-chính"
    assert first.result is not None and own.result is not None and step.result is not None
    assert step.result.url == f"{first.result.url}#dinh-chinh-{correction.id}"
    assert len(NOTICE.findall(content_of(first.result.external_id))) == 1
    assert content_of(own.result.external_id).startswith(f"<!-- loa:ban-goc {original.id} -->")

    await runtime.intake.take_in([correction])  # Kafka gives the event again after a restart
    fixed = Content.model_validate(correction.model_dump() | {"version": 2, "summary": "Bản sửa lại."})
    await runtime.intake.take_in([fixed])  # a new version of the correction does not link again
    await runtime.until(correction.id, "wp", S.PUBLISHED)
    assert len(await runtime.jobs(correction.id, link_account("wp"))) == 1
    await asyncio.sleep(0.5)  # what the dispatcher would do next, it has done
    assert len(NOTICE.findall(content_of(first.result.external_id))) == 1
    assert content_of(own.result.external_id).count("Bài này đính chính") == 1, "v2 keeps its link back"


async def test_an_original_never_published_on_the_account_ends_the_step_cancelled(runtime: Runtime) -> None:
    correction = as_correction(article("01JD5Z8Q4M9R3T7V2X6YWPRRT2", account="wp"), "tb-chua-dang", TITLE)
    await runtime.intake.take_in([correction])
    await runtime.until(correction.id, "wp", S.PUBLISHED)
    step = await runtime.until(correction.id, link_account("wp"), S.PUBLISHED, S.FAILED, S.CANCELLED)
    assert (step.state, step.note) == (S.CANCELLED, ORIGINAL_NOT_PUBLISHED)
    assert [p["content"].count("loa:") for p in emulator.state.posts.values()] == [0]


async def test_a_static_account_gets_no_link_step(runtime: Runtime) -> None:
    later = utcnow() + timedelta(days=1)  # the dispatcher leaves it alone: this test has no media store
    static = article("01JD5Z8Q4M9R3T7V2X6YWPRRT3", account="main", publish_at=later)
    correction = as_correction(static, "tb-goc", TITLE)
    await runtime.intake.take_in([correction])
    assert [j.account for j in await runtime.jobs(correction.id, link_account("main"))] == []
    assert len(await runtime.jobs(correction.id, "main")) == 1

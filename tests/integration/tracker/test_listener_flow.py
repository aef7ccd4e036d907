"""The listener on the real stack: a published post's figures reach the tracker; restarts; limits.

Kafka, SQLite stores and the sandbox (in this process, so the test sets its simulation's speed);
the tracker and the listener run as their apps do (uvicorn, lifespan). The schedule is short (1 s,
30 s, 60 s after publication) and the sandbox ages posts an hour per second of clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, select, update

from loa import db
from loa.events import DeliveryState, topics
from loa.publisher.accounts import AccountStore, load_cipher
from loa.publisher.store.db import MIGRATIONS as JOB_STORE
from loa.settings import LoaSettings
from services.listener.app import create_app
from services.listener.schedule import Read
from services.listener.settings import ListenerSettings
from services.listener.store import FollowedStore
from services.listener.tables import followed
from services.sandbox import engagement as simulation
from services.sandbox.facebook import Page, state
from services.sandbox.frame import sandbox as sandbox_state
from tests.integration.tracker.support import (
    approved,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)
from tests.sandbox_fixtures import sandbox_server, sandbox_url
from tests.support.serve import serving

__all__ = ["sandbox_server", "sandbox_url"]
pytestmark = pytest.mark.integration

ACCOUNT = "trang-so-tttt-da-nang"
MESSAGE = "Sở Thông tin và Truyền thông Đà Nẵng: lịch tiếp công dân tháng 12/2026."


@contextlib.asynccontextmanager
async def running_listener(settings: ListenerSettings) -> AsyncIterator[None]:
    async with serving(create_app(settings)):
        yield


async def seeded_job_store(url: str, settings: ListenerSettings, page: Page) -> None:
    """The publishers' job store with the Page's account, as ``loa accounts add`` leaves it."""
    engine = db.make_engine(url, queued_writes=True)
    try:
        await db.migrate(engine, JOB_STORE)
        await AccountStore(engine, "facebook", load_cipher(settings)).add(
            ACCOUNT, {"page_access_token": page.token}, {"page_id": page.id}
        )
    finally:
        await engine.dispose()


async def due_while_down(url: str) -> None:
    store = await FollowedStore.open(url)
    try:
        async with store.engine.begin() as conn:
            figures = followed.c.kind == Read.FIGURES  # the comments' table (10 min) is not due yet
            await conn.execute(update(followed).where(figures).values(next_poll_at=datetime.now(UTC)))
    finally:
        await store.close()


async def followed_row(url: str) -> dict[str, object]:
    """The schedule's row, read as a reader beside the running listener: a read-only connection
    takes no lock in WAL mode. (Opened as a store, it was a second writer in the listener's own
    process: each of its transactions a ``BEGIN IMMEDIATE`` while the listener's run inline on
    the same event loop — a CI run saw the listener's wait for the lock time out.)"""
    path = make_url(url).database
    reader = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with reader.connect() as conn:
            found = conn.execute(select(followed).where(followed.c.kind == Read.FIGURES))
            return dict(found.one()._mapping)
    finally:
        reader.dispose()


async def test_figures_reach_the_tracker_a_restart_keeps_the_schedule_a_rate_limit_is_honoured(
    settings: LoaSettings, sqlite_url: str, tmp_path: Path, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_topics(settings)
    sandbox_state.reset()
    simulation.simulation.speed = 3600.0  # an hour of figures per second
    page_id = str(300_000_000_000_000 + uuid.uuid4().int % 10**12)
    page = state().pages.setdefault(page_id, Page(page_id, "Sở TT&TT Đà Nẵng", f"EAAG{uuid.uuid4().hex}"))
    posted = httpx.post(
        f"{sandbox_url}/graph/v24.0/{page_id}/feed",
        data={"message": MESSAGE},
        headers={"Authorization": f"OAuth {page.token}"},
    )
    post_id = posted.json()["id"]

    monkeypatch.setenv("LOA_FACEBOOK_GRAPH_URL", f"{sandbox_url}/graph")
    listener_db = f"sqlite+aiosqlite:///{tmp_path / 'listener.db'}"
    ls = ListenerSettings(
        mode="development",
        kafka_bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        channels="facebook",
        publisher_database_url=f"sqlite+aiosqlite:///{tmp_path / 'publisher-facebook.db'}",
        listener_database_url=listener_db,
        listener_group_id=f"loa-listener-{settings.topic_prefix.strip('.')}",
        listener_schedule="1s,30s,60s",
        listener_then_every="1d",
        listener_follow_for="1d",
        listener_idle_s=0.2,
        listener_retry_base_s=0.5,
    )
    await seeded_job_store(ls.job_store_url("facebook"), ls, page)
    content_id = f"lich-tiep-dan-{uuid.uuid4().hex[:6]}"
    published = status(content_id, "facebook", ACCOUNT, DeliveryState.PUBLISHED, 3)
    published = published.model_copy(
        update={"payload": published.payload.model_copy(update={"external_id": post_id})}
    )

    async def figures(client: httpx.AsyncClient) -> list[dict[str, Any]]:
        answer = await client.get(f"/api/v1/contents/{content_id}/engagement", headers=auth("viewer"))
        assert answer.status_code == 200, answer.text
        return list(answer.json()["deliveries"])

    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        await send(p, settings, topics.CONTENT, [approved(content_id, [("facebook", ACCOUNT)])])
        async with running_listener(ls):
            await send(p, settings, topics.DELIVERY, [published])

            async def read_once() -> bool:
                return bool(await figures(client))

            await eventually(read_once, within=20, what="the first sample on the tracker's API")
            [delivery] = await figures(client)
            values = {f["metric"]: f["value"] for f in delivery["figures"]}
            assert delivery["external_id"] == post_id and delivery["account"] == ACCOUNT
            assert {"impressions", "reach", "reactions", "comments", "shares"} <= set(values)
            assert values["impressions"] > 0
            page_html = await client.get(f"/contents/{content_id}", headers=auth("viewer"))
            assert (
                "Lượt hiển thị" in page_html.text
                and f'data-engagement="{content_id}:facebook:{ACCOUNT}"' in page_html.text
            )

        # stopped between polls: the schedule is in its store, not in its memory
        row = await followed_row(listener_db)
        assert row["step"] == 1 and row["stopped"] is None, row
        assert isinstance(row["next_poll_at"], datetime) and row["next_poll_at"] > datetime.now(UTC)
        await due_while_down(listener_db)  # its 30 s step came while the listener was down
        calls = sandbox_state.stats()["facebook"]["requests"]
        # the next poll meets Graph's page limit (code 32): the account waits for the reset it names
        sandbox_state.plan_preset("facebook", "rate_limit", count=1, reset_after_s=60)
        async with running_listener(ls):

            async def limited() -> bool:
                row = await followed_row(listener_db)
                at = row["next_poll_at"]
                return isinstance(at, datetime) and at > datetime.now(UTC) + timedelta(seconds=50)

            await eventually(limited, within=20, what="the poll deferred past the platform's reset")
            await asyncio.sleep(1.5)
            # the restarted listener polled the post the store said was due: one call, which met
            # the limit; none since (its gate is closed until the reset)
            assert sandbox_state.stats()["facebook"]["requests"] == calls + 1
            assert (await followed_row(listener_db))["step"] == 1  # the step is read after the reset

"""The listener follows a website article: the views the website server counted reach the tracker.

Kafka, MinIO and SQLite stores of the real stack; the website server counts into this test's own
buckets; the tracker and the listener run as their apps do. The listener's readers are the
``loa.engagement`` entry points as pyproject.toml declares them (the venv's metadata is its last
install's, which may predate the website reader).
"""

from __future__ import annotations

import tomllib
import uuid
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa import db
from loa.channels.engagement import ENTRY_POINT_GROUP, EngagementReader
from loa.events import DeliveryState, topics
from loa.publisher.accounts import AccountStore, load_cipher
from loa.publisher.store.db import MIGRATIONS as JOB_STORE
from loa.settings import REPO_ROOT, LoaSettings
from services.listener.settings import ListenerSettings
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
from tests.integration.tracker.test_listener_flow import running_listener
from tests.website_support import BROWSER, KEY, counting_server, make_media, published, views_tokens

pytestmark = pytest.mark.integration

GOOGLEBOT = {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}


def declared_readers() -> dict[str, type[EngagementReader]]:
    """The readers pyproject.toml registers, loaded as ``importlib.metadata`` would load them."""
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    table = declared[ENTRY_POINT_GROUP]
    return {name: EntryPoint(name, value, ENTRY_POINT_GROUP).load() for name, value in table.items()}


async def test_the_websites_own_page_views_reach_the_tracker_and_grow(
    settings: LoaSettings, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_topics(settings)
    media = make_media(settings)
    published(media)
    access = f"sqlite+aiosqlite:///{tmp_path / 'access.db'}"
    tokens = await views_tokens(access)
    monkeypatch.setattr("services.listener.app.load_readers", declared_readers)
    ls = ListenerSettings(
        mode="development",
        kafka_bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        channels="website",
        publisher_database_url=f"sqlite+aiosqlite:///{tmp_path / 'publisher.db'}",
        listener_database_url=f"sqlite+aiosqlite:///{tmp_path / 'listener.db'}",
        listener_group_id=f"loa-listener-{settings.topic_prefix.strip('.')}",
        listener_schedule="1s",
        listener_then_every="2s",  # a reading every 2 s: the next one sees the views made since
        listener_follow_for="1h",
        listener_idle_s=0.2,
    )
    engine = db.make_engine(ls.job_store_url("website"), queued_writes=True)
    try:
        await db.migrate(engine, JOB_STORE)
        await AccountStore(engine, "website", load_cipher(ls)).add("main", {}, {"mode": "static"})
    finally:
        await engine.dispose()
    content_id = f"lich-tiep-cong-dan-{uuid.uuid4().hex[:6]}"
    done = status(content_id, "website", "main", DeliveryState.PUBLISHED, 3)
    done = done.model_copy(update={"payload": done.payload.model_copy(update={"external_id": "/" + KEY})})

    async def views(client: httpx.AsyncClient) -> int | None:
        answer = await client.get(f"/api/v1/contents/{content_id}/engagement", headers=auth("viewer"))
        assert answer.status_code == 200, answer.text
        figures = [f for d in answer.json()["deliveries"] for f in d["figures"] if f["metric"] == "views"]
        return int(figures[0]["value"]) if figures else None

    server, _ = counting_server(media, access, flush_s=0.5)
    with server:
        for _ in range(4):
            assert httpx.get(f"{server.url}/{KEY}", headers=BROWSER).status_code == 200
        httpx.get(f"{server.url}/{KEY}", headers=GOOGLEBOT)  # a crawler: not a view
        httpx.head(f"{server.url}/{KEY}", headers=BROWSER)  # nobody shown a page: not a view
        monkeypatch.setenv("LOA_WEBSITE_VIEWS_URL", server.url)
        monkeypatch.setenv("LOA_WEBSITE_VIEWS_TOKEN", tokens["listener"])
        async with (
            running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
            producer(settings) as p,
        ):
            await send(p, settings, topics.CONTENT, [approved(content_id, [("website", "main")])])
            async with running_listener(ls):
                await send(p, settings, topics.DELIVERY, [done])

                async def first() -> bool:
                    return await views(client) == 4

                await eventually(first, within=20, what="the article's 4 views on the tracker")
                page: Any = await client.get(f"/contents/{content_id}", headers=auth("viewer"))
                assert "Lượt xem" in page.text and f'data-engagement="{content_id}:website:main"' in page.text
                for _ in range(2):
                    httpx.get(f"{server.url}/{KEY}", headers=BROWSER)

                async def grown() -> bool:
                    return await views(client) == 6

                await eventually(grown, within=20, what="the next reading's 6 views")

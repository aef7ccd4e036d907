"""The tracker stores the host each delivery went to and shows it: API, content page, ``loa status``.

Real Kafka and the real tracker: a status event carrying ``target_host`` is what ops see.
"""

from __future__ import annotations

import pytest
from rich.console import Console

from loa.cli.status import table
from loa.events import DeliveryState as S
from loa.events import topics
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    TOKENS,
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

pytestmark = pytest.mark.integration
SANDBOX = "127.0.0.1:8090"


async def test_the_tracker_shows_where_a_delivery_went(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    published = status("tin-may-chu", "facebook", "so-ttt-da-nang", S.PUBLISHED, 2)
    published = published.model_copy(
        update={"payload": published.payload.model_copy(update={"target_host": SANDBOX})}
    )
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        await send(p, settings, topics.CONTENT, [approved("tin-may-chu", [("facebook", "so-ttt-da-nang")])])
        await send(p, settings, topics.DELIVERY, [published])

        async def shown() -> bool:
            answer = await client.get("/api/v1/contents/tin-may-chu", headers=auth("viewer"))
            return answer.status_code == 200 and answer.json()["deliveries"][0]["state"] == "published"

        await eventually(shown, what="the published delivery")
        detail = (await client.get("/api/v1/contents/tin-may-chu", headers=auth("viewer"))).json()
        await client.post("/login", data={"token": TOKENS["viewer"], "next": "/"})
        page = (await client.get("/contents/tin-may-chu")).text
    assert detail["deliveries"][0]["target_host"] == SANDBOX
    assert f"→ {SANDBOX}" in page

    console = Console(record=True, width=200, color_system=None)
    console.print(table("tin-may-chu", None, detail["deliveries"]))
    assert SANDBOX in console.export_text()

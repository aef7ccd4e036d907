"""A retract reason the event would refuse is a 422 naming the field, never a 500 (#15 item 6).

The tracker checked the reason with a looser rule than ``content.retracted`` does, so a reason with a
control character (here an ECMA-48 escape sequence, which repaints a terminal that prints it) passed
the request and failed when the event was made: a 500. Markup stays prose: it is escaped where it
is shown, not refused.
"""

import pytest

from loa.events import topics
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    approved,
    auth,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    tracker_settings,
)

pytestmark = pytest.mark.integration


async def test_retract_reason_follows_the_event_rule(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        await send(p, settings, topics.CONTENT, [approved("tin-7")])

        async def known() -> bool:
            r = await client.get("/api/v1/contents/tin-7", headers=auth("viewer"))
            return r.status_code == 200

        await eventually(known, what="the approved content")
        url = "/api/v1/contents/tin-7/retract"

        control = await client.post(
            url, headers=auth("admin"), json={"reason": "Sai số liệu \x1b[2J\x1b[31mđã xoá"}
        )
        assert control.status_code == 422
        fields = control.json()["error"]["fields"]
        assert [f["field"] for f in fields] == ["body.reason"]

        markup = await client.post(
            url, headers=auth("admin"), json={"reason": "<b>Thông tin sai</b> về Đà Nẵng"}
        )
        assert markup.status_code == 202

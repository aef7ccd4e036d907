"""``loa status ID [--wait]`` against a running tracker."""

from __future__ import annotations

import asyncio

import pytest
import typer
from typer.testing import CliRunner

from loa.cli import status as status_cli
from loa.events import DeliveryState as S
from loa.events import ErrorClass, topics
from loa.settings import LoaSettings
from tests.integration.tracker.support import (
    TOKENS,
    approved,
    create_topics,
    eventually,
    producer,
    running_tracker,
    send,
    status,
    tracker_settings,
)

pytestmark = pytest.mark.integration


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in `loa`, so `status` is a subcommand
    app.command("status")(status_cli.status)
    return app


async def test_status_prints_the_table_and_waits_until_final(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    targets = [("facebook", "so-ttt"), ("zalo", "oa-da-nang")]
    async with (
        running_tracker(tracker_settings(settings, sqlite_url)) as (_, client),
        producer(settings) as p,
    ):
        await send(p, settings, topics.CONTENT, [approved("tin-9", targets)])
        await send(
            p,
            settings,
            topics.DELIVERY,
            [
                status("tin-9", "facebook", "so-ttt", S.PUBLISHED, 3),
                status(
                    "tin-9",
                    "zalo",
                    "oa-da-nang",
                    S.RETRYING,
                    2,
                    error=(ErrorClass.TRANSIENT, "-32", "Quá tải"),
                ),
            ],
        )

        async def ready() -> bool:
            r = await client.get(
                "/api/v1/deliveries",
                params={"state": "retrying"},
                headers={"Authorization": f"Bearer {TOKENS['viewer']}"},
            )
            return bool(r.json()["total"] == 1)

        await eventually(ready, what="the statuses")
        env = {"LOA_TRACKER_URL": str(client.base_url), "LOA_API_TOKEN": TOKENS["viewer"], "COLUMNS": "160"}
        runner = CliRunner()
        once = await asyncio.to_thread(runner.invoke, _app(), ["status", "tin-9"], env=env)
        assert once.exit_code == 0, once.output
        assert "published" in once.output
        assert "retrying" in once.output
        assert "Quá tải" in once.output

        waiting = asyncio.create_task(
            asyncio.to_thread(
                runner.invoke, _app(), ["status", "tin-9", "--wait", "--timeout", "30"], env=env
            )
        )
        await asyncio.sleep(1.5)
        assert not waiting.done()
        await send(p, settings, topics.DELIVERY, [status("tin-9", "zalo", "oa-da-nang", S.PUBLISHED, 4)])
        result = await asyncio.wait_for(waiting, 20)
        assert result.exit_code == 0, result.output
        assert "retrying" not in result.output.splitlines()[-3]

        bad = await asyncio.to_thread(
            runner.invoke, _app(), ["status", "tin-9"], env={**env, "LOA_API_TOKEN": "x" * 40}
        )
        assert bad.exit_code == 2
        assert "refused the token" in bad.output

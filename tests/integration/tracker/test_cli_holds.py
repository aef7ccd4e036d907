"""``loa hold`` / ``loa release`` against a running tracker: a hold, a refusal, release by id and --all."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from loa.cli.main import app
from loa.settings import LoaSettings
from tests.integration.tracker.support import TOKENS, auth, create_topics, running_tracker, tracker_settings

pytestmark = pytest.mark.integration
REASON = "Tạm dừng: chờ Bộ trưởng duyệt lại thông cáo về Đồng bằng sông Cửu Long"


async def test_hold_and_release_from_the_command_line(settings: LoaSettings, sqlite_url: str) -> None:
    await create_topics(settings)
    async with running_tracker(tracker_settings(settings, sqlite_url)) as (_, client):
        env = {"LOA_TRACKER_URL": str(client.base_url), "LOA_API_TOKEN": TOKENS["operator"], "COLUMNS": "200"}
        runner = CliRunner()

        async def loa(*args: str, token: str = TOKENS["operator"]) -> tuple[int, str]:
            result = await asyncio.to_thread(
                runner.invoke, app, list(args), env={**env, "LOA_API_TOKEN": token}
            )
            return result.exit_code, result.output

        code, out = await loa("hold", "--reason", REASON, "--channel", "zalo")
        assert code == 0, out
        first = json.loads(out)
        assert (first["channel"], first["reason"], first["held_by"]) == ("zalo", REASON, "tracker:operator")
        code, out = await loa("hold", "--reason", REASON, "--account", "oa-da-nang")
        assert code == 1
        assert "account: name its channel too" in out
        code, out = await loa("hold", "--reason", REASON, token=TOKENS["viewer"])
        assert code == 1
        assert "operator" in out
        assert TOKENS["viewer"] not in out
        code, out = await loa("hold", "--reason", "Sự cố chung", "--unit", "Văn phòng Bộ")
        assert code == 0, out

        code, out = await loa("release")
        assert code == 2
        assert first["id"] in out
        code, out = await loa("release", first["id"], "--reason", "Đã duyệt")
        assert (code, out.splitlines()[0]) == (0, f"released {first['id']}")
        code, out = await loa("release", "--all")
        assert code == 0, out
        holds = (await client.get("/api/v1/holds", headers=auth("viewer"))).json()
        assert [h["released_at"] is not None for h in holds] == [True, True]

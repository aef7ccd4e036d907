"""``loa accounts`` through the tracker's API: add, list, update, remove as an admin, refused to an
operator, audited, and no credential printed."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from loa.cli.main import app
from loa.settings import LoaSettings
from tests.integration.tracker.support import TOKENS, auth, create_topics, running_tracker, tracker_settings

pytestmark = pytest.mark.integration
UNIT = "Vụ Truyền thông và Báo chí"
PASSWORD = "wp-ứng-dụng-Đ 9x7q 2m4k"


async def test_accounts_from_the_command_line_go_through_the_api(
    settings: LoaSettings, sqlite_url: str
) -> None:
    await create_topics(settings)
    ts = tracker_settings(
        settings, sqlite_url, tracker_consume=False, credentials_key=Fernet.generate_key().decode()
    )
    async with running_tracker(ts) as (_, client):
        env = {"LOA_TRACKER_URL": str(client.base_url), "COLUMNS": "200"}
        runner = CliRunner()

        async def loa(*args: str, token: str = TOKENS["admin"], typed: str | None = None) -> tuple[int, str]:
            result = await asyncio.to_thread(
                runner.invoke, app, list(args), env={**env, "LOA_API_TOKEN": token}, input=typed
            )
            return result.exit_code, result.output

        add = ("accounts", "add", "website", "cong-thong-tin", "-c", f"app_password={PASSWORD}")
        code, out = await loa(*add, "-o", "url=https://mic.gov.vn", "--unit", UNIT, token=TOKENS["operator"])
        assert code == 1 and PASSWORD not in out, out
        code, out = await loa(
            *add, "-o", "url=https://mic.gov.vn", "--unit", UNIT, "--expires", "2027-06-30T17:00:00+07:00"
        )
        assert code == 0, out
        code, out = await loa("accounts", "list", "website")
        assert code == 0, out
        assert "cong-thong-tin" in out and f"unit {UNIT}" in out and "credentials: app_password" in out
        assert "expires 2027-06-30T10:00:00" in out
        code, out = await loa(
            "accounts", "update", "website", "cong-thong-tin", "-c", "app_password", typed="mới\n"
        )
        assert code == 0, out  # asked for, hidden
        code, out = await loa("accounts", "remove", "website", "cong-thong-tin")
        assert code == 0, out
        code, out = await loa("accounts", "remove", "website", "cong-thong-tin")
        assert code == 1 and "no account website/cong-thong-tin" in out
        rows = (
            await client.get("/api/v1/audit", headers=auth("admin"), params={"action": "account_change"})
        ).json()
        assert [r["detail"].split(":")[0] for r in rows["items"]] == [
            "remove website/cong-thong-tin",
            "update website/cong-thong-tin",
            "add website/cong-thong-tin",
        ]
        assert PASSWORD not in str(rows) and PASSWORD not in out

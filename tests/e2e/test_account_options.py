"""Issue #15 item 4 through the runtime: a webhook URL changed in the database alone parks the
account and its job, no request leaves (the credentials would sign it for the other host); setting
the URL again with ``loa accounts update`` publishes the waiting job."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from loa.cli.accounts import app
from loa.publisher.store.schema import accounts
from services.sandbox.client import SandboxClient
from tests.e2e.support import WEBHOOK_ACCOUNT, S, WebhookRun, article, later

pytestmark = pytest.mark.e2e

ACCOUNT = WEBHOOK_ACCOUNT


async def test_a_url_changed_in_the_database_parks_the_account_until_loa_accounts_sets_it(
    sandbox: SandboxClient, sandbox_url: str, webhook_run: WebhookRun, pass_time: Callable[[timedelta], None]
) -> None:
    run, endpoint = webhook_run
    assert run.publisher is not None
    elsewhere = f"ke-gian-{uuid.uuid4().hex[:6]}"
    sandbox.webhook_endpoint(elsewhere, "khong-quan-trong")
    c = article("webhook", ACCOUNT, [], publish_at=later(2))
    await run.approve(c)
    await run.until_state(c.id, ACCOUNT, S.SCHEDULED)

    async with run.publisher.engine.begin() as conn:  # someone with write access to the database
        await conn.execute(
            update(accounts)
            .where(accounts.c.channel == "webhook", accounts.c.name == ACCOUNT)
            .values(options=json.dumps({"url": f"{sandbox_url}/webhook/{elsewhere}"}))
        )
    pass_time(timedelta(hours=2, minutes=1))

    waiting = await run.until_state(c.id, ACCOUNT, S.NEEDS_ATTENTION)
    assert f"webhook/{ACCOUNT}: its options were changed outside `loa accounts`" in waiting.error.message
    assert (await run.publisher.accounts.versions())[ACCOUNT].parked
    assert sandbox.records("webhook") == []  # nothing was sent, to either host
    assert sandbox.webhook_live(elsewhere) == []

    args = ["update", "webhook", ACCOUNT, "-o", f"url={sandbox_url}/webhook/{endpoint}"]
    args += ["--database-url", run.settings.job_store_url("webhook")]
    key = run.settings.credentials_key.get_secret_value()
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env={"LOA_CREDENTIALS_KEY": key})
    assert result.exit_code == 0, result.output

    await run.until_state(c.id, ACCOUNT, S.PUBLISHED)
    [delivered] = sandbox.webhook_live(endpoint)
    assert delivered["payload"]["title"] == c.title
    assert sandbox.webhook_live(elsewhere) == []

"""The hold switch against the sandbox: nothing held reaches the platform's receiver, by its own count.

The webhook channel posts to the sandbox's signed receiver; a hold of one unit keeps its contents
from it (another unit's content goes), scheduled ones whose time passes included, until release.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from loa.events import LATE_NOTE, Hold, HoldPublishing, HoldRelease, ReleasePublishing, topics, utcnow
from services.sandbox.client import SandboxClient
from tests.e2e.support import WEBHOOK_ACCOUNT, S, WebhookRun, article
from tests.integration.publisher.publisher_helpers import send

pytestmark = pytest.mark.e2e
UNIT = "Sở Thông tin và Truyền thông Đà Nẵng"
REASON = "Tạm dừng các bài của Sở trong khi Đoàn kiểm tra xác minh số liệu"


async def test_nothing_held_reaches_the_sandbox_and_the_release_sends_it(
    sandbox: SandboxClient, webhook_run: WebhookRun
) -> None:
    run, endpoint = webhook_run
    hold = Hold(hold_id="so-tttt-1", unit=UNIT, requested_by="Lê Văn Đạt", reason=REASON)
    await send(run.settings, topics.COMMANDS, [HoldPublishing(payload=hold)], key=lambda e: hold.hold_id)
    held = [
        article("webhook", WEBHOOK_ACCOUNT, [], unit=UNIT, title=f"Thông báo số {i} của Sở") for i in range(3)
    ]
    held.append(
        article("webhook", WEBHOOK_ACCOUNT, [], unit=UNIT, publish_at=utcnow() + timedelta(seconds=2))
    )
    other = article("webhook", WEBHOOK_ACCOUNT, [], unit="Văn phòng UBND thành phố")
    await run.approve(*held, other)

    await run.until_state(other.id, WEBHOOK_ACCOUNT, S.PUBLISHED)
    for c in held:
        await run.until_state(c.id, WEBHOOK_ACCOUNT, S.HELD)
    await asyncio.sleep(3.0)  # the scheduled one's time passes during the hold
    live = sandbox.webhook_live(endpoint)
    assert [doc["payload"]["title"] for doc in live] == [other.title], "the receiver got nothing held"

    release = ReleasePublishing(payload=HoldRelease(hold_id=hold.hold_id, requested_by="Lê Văn Đạt"))
    await send(run.settings, topics.COMMANDS, [release], key=lambda e: hold.hold_id)
    for c in held[:3]:
        await run.until_state(c.id, WEBHOOK_ACCOUNT, S.PUBLISHED)
    assert run.watcher is not None
    late = run.did(held[3].id, WEBHOOK_ACCOUNT)
    await run.watcher.until(lambda: getattr(run.watcher.last(late), "note", None) == LATE_NOTE)  # type: ignore[union-attr]
    assert run.watcher.last(late).state is S.HELD  # type: ignore[union-attr]
    assert len(sandbox.webhook_live(endpoint)) == 4  # the late one waits for ops

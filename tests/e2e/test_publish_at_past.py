"""Issue #25 point 4 on Kafka: a content.approved dated 2020 (approved now) produced straight onto the
content topic is dead-lettered (by the tracker's group) with a reason naming publish_at and never
published; a content approved minutes late for its slot and one backdated on purpose go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loa.events import ContentApproved, topics, utcnow
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from tests.e2e.support import WEBHOOK_ACCOUNT, S, WebhookRun, approved, article
from tests.integration.tracker.support import running_tracker, tracker_settings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.e2e

ACCOUNT = WEBHOOK_ACCOUNT


async def test_a_first_publication_dated_years_back_is_dead_lettered_not_published(
    settings: LoaSettings, tmp_path: Path, sandbox: SandboxClient, webhook_run: WebhookRun
) -> None:
    run, endpoint = webhook_run
    years_ago = datetime(2020, 1, 15, 9, 0, tzinfo=UTC)
    stale = article("webhook", ACCOUNT, [], title="Thông báo cũ năm 2020 của Sở Nội vụ", publish_at=years_ago)
    late = article(
        "webhook", ACCOUNT, [], title="Duyệt trễ 10 phút", publish_at=utcnow() - timedelta(minutes=10)
    )
    archive = article(
        "webhook", ACCOUNT, [], title="Lưu trữ: Đề án 2020", publish_at=years_ago, backdated=True
    )
    # The tracker's group owns the content topic's dead letters (one per bad message); the
    # publisher logs and skips.
    tracker = tracker_settings(settings, f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    async with running_tracker(tracker):
        # As a content system would produce it; our own model refuses to build it.
        await run.send(ContentApproved.model_construct(payload=stale), approved(late), approved(archive))

        await run.until_state(late.id, ACCOUNT, S.PUBLISHED)
        await run.until_state(archive.id, ACCOUNT, S.PUBLISHED)
        [dead] = await read_topic(settings.kafka_bootstrap, settings.topic(topics.dlq(topics.CONTENT)), 1)
    assert dead.key == stale.id.encode()
    assert "publish_at 2020-01-15T09:00:00+00:00" in dead.headers["loa-dlq-reason"]
    assert "before approved_at" in dead.headers["loa-dlq-reason"]
    titles = sorted(d["payload"]["title"] for d in sandbox.webhook_live(endpoint))
    assert titles == sorted([late.title, archive.title])
    assert run.states(stale.id, ACCOUNT) == []

"""Bounded intake on real Kafka and both job stores (issue #20, ``loa.publisher.intake_gate``):
over its due backlog a publisher leaves new contents in Kafka, still takes urgent work in at once,
never lets a retraction overtake the approval it retracts, and in the end publishes every content
exactly once."""

from __future__ import annotations

import pytest
from publisher_fake import FakePlatform
from publisher_helpers import Watcher, approved, content, did, retracted, send_content

from loa.events import DeliveryState as S
from loa.events import Priority
from loa.publisher.settings import PublisherSettings

pytestmark = pytest.mark.integration

BACKLOG = 4
CONTENTS = 30


async def test_over_its_backlog_intake_leaves_contents_in_kafka_but_takes_urgent_work_and_loses_nothing(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    gated = pub_settings.model_copy(update={"publisher_intake_backlog": BACKLOG, "publisher_concurrency": 2})
    pub = await start_publisher(settings=gated)
    await pub.accounts.add("cham", {"token": "ok"}, {"platform": platform.path, "answer_after": 1})
    normal = [
        content(f"ban-tin-{i}", accounts=("cham",), title=f"Bản tin số {i}: Đoàn công tác về Điện Biên")
        for i in range(CONTENTS)
    ]
    await send_content(pub_settings, *(approved(c) for c in normal[:10]))
    await watcher.until(lambda: pub.gate.closed, what="the gate closes over the backlog")
    urgent = content(
        "khan-dinh-chinh", title="KHẨN: Đính chính thông tin sai về dịch bệnh", priority=Priority.URGENT
    )
    last = normal[-1].id
    # Read ahead while the gate is closed (two slots of one second each: it stays closed ~3 s).
    await send_content(pub_settings, *(approved(c) for c in normal[10:]), approved(urgent), retracted(last))
    await watcher.until_state(did(urgent.id), S.PUBLISHED, timeout=10)
    stored = sum((await pub.store.counts_by_state()).values())
    assert stored < CONTENTS, "every content was taken in: the gate let the backlog into the store"
    assert pub.metrics.intake_waiting._value.get() == 1  # visible to ops on /metrics
    assert not watcher.states(did(last, "cham")), "not left in Kafka"

    published = lambda: [c.id for c in normal if S.PUBLISHED in watcher.states(did(c.id, "cham"))]  # noqa: E731
    await watcher.until(lambda: len(published()) == CONTENTS - 1, timeout=60, what="the drain")
    await watcher.until(lambda: not pub.gate.closed, what="the gate opens")
    markers = [row[1] for row in platform.posts()]
    assert sorted(markers) == sorted({*markers}), "a content was published twice"
    assert {f"loa:{c.id}" for c in normal[:-1]} | {f"loa:{urgent.id}"} <= {*markers}
    assert last not in published()
    assert [row for row in platform.posts() if row[1] == f"loa:{last}" and row[5] == 0] == []  # none left up

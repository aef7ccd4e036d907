"""Intake → dispatcher → platform → outbox → delivery topic, on real Kafka and both job stores."""

from __future__ import annotations

import asyncio

import pytest
from publisher_fake import FAKE_HOST, FakePlatform, ReadOnlyFakeAdapter
from publisher_helpers import (
    Watcher,
    approved,
    cancel,
    content,
    did,
    retracted,
    retry,
    send_command,
    send_content,
    updated,
)

from loa.events import DeliveryState as S
from loa.events import ErrorClass, utcnow
from loa.publisher.settings import PublisherSettings

pytestmark = pytest.mark.integration


async def test_approved_content_is_published_once_with_ordered_events(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    c = content("tb-2024-001")
    await send_content(pub_settings, approved(c))
    last = await watcher.until_state(did(c.id), S.PUBLISHED)
    assert watcher.states(did(c.id)) == [S.SCHEDULED, S.PUBLISHING, S.PUBLISHED]
    assert [d.sequence for d in sorted(watcher.history[did(c.id)], key=lambda d: d.sequence)] == [1, 2, 3]
    assert watcher.keys[did(c.id)] == {c.id}
    assert last.attempt == 1
    posts = platform.posts()
    assert len(posts) == 1
    assert last.external_id == str(posts[0][0])
    assert last.public_url == f"https://fake.example/p/{posts[0][0]}"
    # the delivery records the host the call went to; nothing before the call claims one
    assert last.target_host == FAKE_HOST
    assert {d.target_host for d in watcher.history[did(c.id)] if d.state is not S.PUBLISHED} == {None}
    assert "Thông báo lịch tiếp công dân" in posts[0][4]
    # Only this channel's targets: the website target of the same content is not ours.
    assert not any(":website:" in key for key in watcher.history)


async def test_redelivery_is_harmless(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    c = content("tb-2024-002")
    await send_content(pub_settings, approved(c), approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    await send_content(pub_settings, approved(c))
    await asyncio.sleep(1.0)
    assert len(platform.posts()) == 1
    assert watcher.states(did(c.id)) == [S.SCHEDULED, S.PUBLISHING, S.PUBLISHED]


async def test_too_long_text_and_unknown_account_fail_at_intake(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    long = content("tb-2024-003", text="Đường " * 120)
    stranger = content("tb-2024-004", accounts=("khong-co",))
    await send_content(pub_settings, approved(long), approved(stranger))
    failed = await watcher.until_state(did(long.id), S.FAILED)
    assert failed.error is not None
    assert failed.error.error_class is ErrorClass.PERMANENT
    assert "text:" in failed.error.message
    assert "500" in failed.error.message
    unknown = await watcher.until_state(did(stranger.id, "khong-co"), S.FAILED)
    assert unknown.error is not None
    assert "not configured" in unknown.error.message
    assert platform.posts() == []
    assert platform.calls("publish") == 0


async def test_scheduled_content_waits_for_its_time(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    from datetime import timedelta

    c = content("tb-2024-005", publish_at=utcnow() + timedelta(seconds=2))
    await send_content(pub_settings, approved(c))
    scheduled = await watcher.until_state(did(c.id), S.SCHEDULED)
    assert scheduled.due_at is not None
    assert scheduled.due_at > utcnow()
    assert platform.posts() == []
    await watcher.until_state(did(c.id), S.PUBLISHED, timeout=10)
    assert utcnow() >= c.publish_at  # type: ignore[operator]


async def test_update_edits_the_published_post_and_replaces_a_pending_one(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    c1 = content("tb-2024-006")
    await send_content(pub_settings, approved(c1))
    await watcher.until_state(did(c1.id), S.PUBLISHED)
    c2 = content("tb-2024-006", version=2, title="Thông báo lịch tiếp công dân (đính chính)")
    await send_content(pub_settings, updated(c2))
    await watcher.until(
        lambda: (
            (watcher.last(did(c1.id)) or c1).version == 2 and watcher.last(did(c1.id)).state is S.PUBLISHED
        )
    )  # type: ignore[union-attr]
    posts = platform.posts()
    assert len(posts) == 1
    assert "đính chính" in posts[0][4]
    assert platform.calls("update") == 1

    # A pending version is replaced, not published.
    from datetime import timedelta

    later = utcnow() + timedelta(hours=1)
    p1 = content("tb-2024-007", publish_at=later)
    p2 = content("tb-2024-007", version=2, publish_at=later, title="Bản mới")
    await send_content(pub_settings, approved(p1), updated(p2))
    await watcher.until(lambda: len(watcher.states(did(p1.id))) >= 3, what="v1 cancelled, v2 scheduled")
    events = sorted(watcher.history[did(p1.id)], key=lambda d: d.sequence)
    assert [(d.version, d.state) for d in events] == [
        (1, S.SCHEDULED),
        (1, S.CANCELLED),
        (2, S.SCHEDULED),
    ]


async def test_a_channel_that_cannot_edit_keeps_published_with_a_note(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher(ReadOnlyFakeAdapter)
    c1 = content("tb-2024-008")
    await send_content(pub_settings, approved(c1))
    await watcher.until_state(did(c1.id), S.PUBLISHED)
    await send_content(pub_settings, updated(content(c1.id, version=2, title="Sửa tiêu đề")))
    await watcher.until(
        lambda: watcher.last(did(c1.id)).version == 2 and watcher.last(did(c1.id)).state is S.PUBLISHED
    )  # type: ignore[union-attr]
    last = watcher.last(did(c1.id))
    assert last is not None
    assert last.note
    assert "cannot edit" in last.note
    assert platform.calls("update") == 0
    assert len(platform.posts()) == 1


async def test_retraction_takes_down_published_and_cancels_pending(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    from datetime import timedelta

    live = content("tb-2024-009")
    pending = content("tb-2024-010", publish_at=utcnow() + timedelta(hours=2))
    await send_content(pub_settings, approved(live), approved(pending))
    await watcher.until_state(did(live.id), S.PUBLISHED)
    await watcher.until_state(did(pending.id), S.SCHEDULED)
    await send_content(pub_settings, retracted(live.id), retracted(pending.id))
    await watcher.until_state(did(live.id), S.RETRACTED)
    await watcher.until_state(did(pending.id), S.CANCELLED)
    assert S.RETRACTING in watcher.states(did(live.id))
    assert [p[5] for p in platform.posts()] == [1]  # deleted
    # A later redelivery of the approval does not bring it back.
    await send_content(pub_settings, approved(live))
    await asyncio.sleep(0.5)
    assert len(platform.posts()) == 1


async def test_retract_failure_is_recorded_and_retry_command_repeats_it(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    c = content("tb-2024-011")
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    platform.add_fault("retract", "permanent")
    await send_content(pub_settings, retracted(c.id))
    failed = await watcher.until_state(did(c.id), S.RETRACT_FAILED)
    assert failed.error is not None
    assert failed.error.code == "100"
    await send_command(pub_settings, retry(c.id))
    await watcher.until_state(did(c.id), S.RETRACTED)


async def test_cancel_command_stops_a_scheduled_delivery(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    from datetime import timedelta

    c = content("tb-2024-012", publish_at=utcnow() + timedelta(hours=1))
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.SCHEDULED)
    await send_command(pub_settings, cancel(c.id))
    last = await watcher.until_state(did(c.id), S.CANCELLED)
    assert last.note
    assert "ops" in last.note

"""``delivery.reschedule`` on a real publisher (the planning calendar's drag): a scheduled delivery
goes at its new time; one already sent is left as it is."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from publisher_fake import FakePlatform
from publisher_helpers import Watcher, approved, content, did, send, send_content

from loa.events import DeliveryRef, RescheduleDelivery, topics, utcnow
from loa.events import DeliveryState as S
from loa.publisher.settings import PublisherSettings

pytestmark = pytest.mark.integration

WHO = "Trần Thị Đông"


def reschedule(content_id: str, minutes: float) -> RescheduleDelivery:
    ref = DeliveryRef(
        content_id=content_id,
        channel="fakechan",
        account="chinh",
        requested_by=WHO,
        reason="Dời lịch: họp báo về lũ ở Đà Nẵng lùi sang chiều",
    )
    return RescheduleDelivery(payload=ref, at=utcnow() + timedelta(minutes=minutes))


async def test_a_scheduled_delivery_goes_at_its_new_time_and_a_published_one_stays(
    start_publisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    later = content(
        "hop-bao-da-nang", title="Họp báo về lũ ở Đà Nẵng", publish_at=utcnow() + timedelta(hours=3)
    )
    await send_content(pub_settings, approved(later))
    first = await watcher.until_state(did(later.id), S.SCHEDULED)
    assert first.due_at is not None and first.due_at > utcnow() + timedelta(hours=2)

    command = reschedule(later.id, minutes=0.05)  # three seconds from now
    await send(pub_settings, topics.COMMANDS, [command], key=lambda e: later.id)
    await watcher.until(
        lambda: "delivery.reschedule by Trần Thị Đông" in (watcher.last(did(later.id)).note or ""),  # type: ignore[union-attr]
        what="the rescheduled status",
    )
    moved = watcher.last(did(later.id))
    assert moved is not None and moved.state is S.SCHEDULED and moved.due_at == command.at
    await watcher.until_state(did(later.id), S.PUBLISHED, timeout=20)
    states = watcher.states(did(later.id))
    assert states[-3:] == [S.SCHEDULED, S.PUBLISHING, S.PUBLISHED] and states.count(S.SCHEDULED) == 2
    assert platform.calls("publish") == 1

    # sent already: a reschedule (a drag raced with the publish) changes nothing
    await send(pub_settings, topics.COMMANDS, [reschedule(later.id, minutes=60)], key=lambda e: later.id)
    await asyncio.sleep(3)  # a command is applied within a second or so
    assert watcher.last(did(later.id)).state is S.PUBLISHED  # type: ignore[union-attr]
    assert platform.calls("publish") == 1

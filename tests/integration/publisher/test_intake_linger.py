"""The intake linger on real Kafka (issue #20, ``LOA_PUBLISHER_INTAKE_LINGER_MS``): the broker holds
a content fetch up to the linger, so a steady stream comes in a few batches, each paying intake's
transaction and an offset commit once, instead of one batch per content."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from publisher_helpers import Watcher, approved, content, did, producer_for, send_content

from loa.events import Content, Retraction
from loa.events import DeliveryState as S
from loa.publisher.settings import PublisherSettings

pytestmark = pytest.mark.integration

CONTENTS = 6
GAP_S = 0.05
"""One every 50 ms with the linger: 300 ms in all, within one linger."""
CONTROL_GAP_S = 0.2
"""Without it, further apart: a stall of the loaded CI machine above 50 ms once joined three
contents in one fetch (batches [2, 4]), which says nothing about the linger."""


@pytest.mark.parametrize("linger_ms", [0, 600])
async def test_a_steady_stream_comes_in_batches_as_long_as_the_linger(
    start_publisher, pub_settings: PublisherSettings, watcher: Watcher, linger_ms: int
) -> None:
    pub = await start_publisher(
        settings=pub_settings.model_copy(update={"publisher_intake_linger_ms": linger_ms})
    )
    batches: list[int] = []
    take_in = pub.intake.take_in

    async def counted(changes: Sequence[Content | Retraction]) -> None:
        batches.append(len(changes))
        await take_in(changes)

    pub.intake.take_in = counted  # type: ignore[method-assign]
    stream = [
        content(f"lich-cong-tac-{i}", title=f"Lịch công tác tuần {i} của Lãnh đạo Bộ")
        for i in range(CONTENTS)
    ]
    async with producer_for(pub_settings) as producer:  # one producer: a new one per content
        for c in stream:  # took ~0.3 s of TLS and SASL each on a loaded CI machine
            await send_content(pub_settings, approved(c), producer=producer)
            await asyncio.sleep(GAP_S if linger_ms else CONTROL_GAP_S)
    for c in stream:
        await watcher.until_state(did(c.id), S.PUBLISHED)
    assert sum(batches) == CONTENTS
    if linger_ms:
        assert len(batches) <= 3, batches  # three partitions: at most one batch each
    else:
        assert len(batches) >= CONTENTS - 1, batches  # answered at once: about one each

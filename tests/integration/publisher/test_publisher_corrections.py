"""A correction's link step on the runtime: its own delivery, after the original; never twice.

The fake platform keeps every link it accepts as a row (no deduplication), so "once" is counted
on the platform, across a SIGKILL between its acceptance and the answer.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from publisher_fake import FakePlatform
from publisher_helpers import CHANNEL, Watcher, approved, content, did, send_content
from test_publisher_crash import _seed_account, _spawn

from loa.channels.corrections import ORIGINAL_NOT_PUBLISHED, link_account
from loa.events import Content, ContentKind
from loa.events import DeliveryState as S
from loa.publisher.settings import PublisherSettings
from tests.integration.publisher.conftest import StartPublisher

pytestmark = pytest.mark.integration


def correction(cid: str, corrects: str) -> Content:
    base = content(cid, title="Đính chính: lịch tiếp công dân tại Đà Nẵng đổi sang thứ Năm")
    return Content.model_validate({**base.model_dump(), "kind": ContentKind.CORRECTION, "corrects": corrects})


def link_did(cid: str) -> str:
    return did(cid, link_account("chinh"))


def links(platform: FakePlatform, cid: str) -> list[str]:
    return [text for _, marker, _, _, text, _ in platform.posts() if marker == f"loa-dinh-chinh:{cid}"]


async def test_a_correction_links_to_the_original_as_its_own_delivery(
    start_publisher: StartPublisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    await send_content(pub_settings, approved(content("tb-goc-1")))
    original = await watcher.until_state(did("tb-goc-1"), S.PUBLISHED)
    await send_content(pub_settings, approved(correction("tb-dc-1", "tb-goc-1")))
    post = await watcher.until_state(did("tb-dc-1"), S.PUBLISHED)
    link = await watcher.until_state(link_did("tb-dc-1"), S.PUBLISHED)
    assert link.account == "chinh~đính-chính" and link.channel == CHANNEL
    assert watcher.states(link_did("tb-dc-1")) == [S.SCHEDULED, S.PUBLISHING, S.PUBLISHED]
    # the link names the original's remote id and the correction's own post on this account
    assert links(platform, "tb-dc-1") == [f"Đính chính {original.external_id}: {post.public_url}"]
    assert link.public_url == original.public_url


async def test_the_original_never_published_on_this_account_ends_the_link_step(
    start_publisher: StartPublisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    await start_publisher()
    await send_content(pub_settings, approved(correction("tb-dc-2", "tb-chua-dang")))
    await watcher.until_state(did("tb-dc-2"), S.PUBLISHED)
    link = await watcher.until_state(link_did("tb-dc-2"), S.CANCELLED)
    assert link.note == ORIGINAL_NOT_PUBLISHED
    assert links(platform, "tb-dc-2") == []


async def test_a_link_step_waits_for_its_original_then_links(
    start_publisher: StartPublisher, pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher
) -> None:
    """The correction arrives before its original went out: the step waits, it does not end."""
    platform.add_fault("publish", "transient", times=1, retry_after=1.0)
    await start_publisher()
    await send_content(pub_settings, approved(content("tb-goc-3")))
    await watcher.until_state(did("tb-goc-3"), S.RETRYING)
    await send_content(pub_settings, approved(correction("tb-dc-3", "tb-goc-3")))
    await watcher.until_state(link_did("tb-dc-3"), S.PUBLISHED, timeout=30)
    assert len(links(platform, "tb-dc-3")) == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the production store; SQLite: the rest
async def test_sigkill_after_the_platform_took_the_link_never_links_twice(
    pub_settings: PublisherSettings, platform: FakePlatform, watcher: Watcher, tmp_path: Path
) -> None:
    await _seed_account(pub_settings, platform, link_answer_after=30)
    log = tmp_path / "publisher.log"
    proc = _spawn(pub_settings, "link-crash", log, lease_seconds=3)
    try:
        await send_content(pub_settings, approved(content("tb-goc-4")))
        await watcher.until_state(did("tb-goc-4"), S.PUBLISHED)
        await send_content(pub_settings, approved(correction("tb-dc-4", "tb-goc-4")))
        await watcher.until_state(link_did("tb-dc-4"), S.PUBLISHING)
        deadline = asyncio.get_running_loop().time() + 30
        while not links(platform, "tb-dc-4"):  # accepted by the platform, the answer not given yet
            assert asyncio.get_running_loop().time() < deadline, "the link never reached the platform"
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = _spawn(pub_settings, "link-crash", log, lease_seconds=3)
        link = await watcher.until_state(link_did("tb-dc-4"), S.PUBLISHED, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert link.note == "found on the platform after an interruption"
    assert len(links(platform, "tb-dc-4")) == 1
    assert platform.calls("link") == 1 and platform.calls("find_link") >= 1

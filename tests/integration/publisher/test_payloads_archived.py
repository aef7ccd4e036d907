"""What a publisher sends reaches the archive: the rendered post under its SHA-256 in the archive
bucket (object-locked on MinIO, the bucket's default retention), and that hash in the delivery's
status events from the attempt on.

The publisher writes it to its outbox with the attempt's ``publishing`` event, its relay sends it
to ``loa.payload.v1`` and the archiver (served as its process is) stores it: the publisher itself
has no grant on the archive bucket."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import StartPublisher
from minio import Minio
from publisher_fake import FakePlatform
from publisher_helpers import Watcher, approved, content, did, retracted, send_content, updated
from test_publisher_corrections import correction
from test_publisher_crash import _seed_account, _spawn

from loa.archive import signing
from loa.archive.bundle import build_zip, collect, verify
from loa.archive.records import sha256_hex
from loa.archive.store import ArchiveStore, payload_key
from loa.channels.corrections import link_account
from loa.events import DeliveryState as S
from loa.publisher.settings import PublisherSettings
from tests.conftest import S3_BACKEND
from tests.integration.tracker.support import eventually
from tests.support.archive import archiver_settings, running_archiver

pytestmark = pytest.mark.integration


@pytest.fixture
async def archiver(
    pub_settings: PublisherSettings, archive_bucket: str, minio_client: Minio
) -> AsyncIterator[ArchiveStore]:
    """The archiver on this test's topics and bucket, and that bucket to read."""
    async with running_archiver(archiver_settings(pub_settings, archive_bucket)):
        yield ArchiveStore(minio_client, archive_bucket)


def named_payload(watcher: Watcher, delivery: str) -> str:
    """The hash of what ``delivery``'s attempt sent, as its ``publishing`` event names it."""
    sha = {d.state: d.payload_sha256 for d in watcher.history[delivery]}[S.PUBLISHING]
    assert sha is not None
    return sha


async def stored_payload(watcher: Watcher, delivery: str, archive: ArchiveStore) -> bytes:
    """What the archive holds under the hash ``delivery``'s ``publishing`` event names, once the
    archiver has stored it; its bytes must hash to that name."""
    sha = named_payload(watcher, delivery)

    async def stored() -> bool:
        return payload_key(sha) in await asyncio.to_thread(archive.keys, "payloads/")

    await eventually(stored, within=30, what=f"payload {sha[:12]} stored")
    data = await asyncio.to_thread(archive.read, payload_key(sha))
    assert sha256_hex(data) == sha
    return data


async def test_the_post_sent_is_archived_and_named_in_the_status_events(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    watcher: Watcher,
    archive_bucket: str,
    minio_client: Minio,
    archiver: ArchiveStore,
) -> None:
    await start_publisher()
    c = content("tb-2026-luu-tru")
    await send_content(pub_settings, approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    hashes = {d.state: d.payload_sha256 for d in watcher.history[did(c.id)]}
    assert hashes[S.SCHEDULED] is None  # nothing sent yet
    sha = hashes[S.PUBLISHING]
    assert sha is not None and hashes[S.PUBLISHED] == sha

    stored = await stored_payload(watcher, did(c.id), archiver)
    assert "Thông báo lịch tiếp công dân" in stored.decode("utf-8")
    assert b'"progress"' not in stored  # resumable state is not what was sent
    if S3_BACKEND == "minio":  # the bucket's default retention locks it
        assert minio_client.get_object_retention(archive_bucket, payload_key(sha)) is not None


async def test_a_post_started_by_the_claim_itself_is_archived_too(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    watcher: Watcher,
    archiver: ArchiveStore,
) -> None:
    """The common case in production: once an account is in memory, the claim commits
    ``publishing`` itself and the job goes straight to the platform call (``Dispatcher._handle``'s
    ``started``). Its payload was not stored there: only the first post of an account was archived."""
    await start_publisher()
    first = content("tb-2026-luu-tru-mot", title="Thông báo lịch tiếp công dân tháng Mười Hai")
    await send_content(pub_settings, approved(first))
    await watcher.until_state(did(first.id), S.PUBLISHED)
    second = content("tb-2026-luu-tru-hai", title="Đề án chuyển đổi số: kết quả năm 2026")
    await send_content(pub_settings, approved(second))
    await watcher.until_state(did(second.id), S.PUBLISHED)

    for c in (first, second):
        stored = await stored_payload(watcher, did(c.id), archiver)
        assert json.loads(stored)["title"] == c.title


async def test_a_correction_link_step_is_archived_with_what_it_sent(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    watcher: Watcher,
    archiver: ArchiveStore,
) -> None:
    """A link step's status events name its payload too (``Delivery.payload_sha256``); the export's
    check would find it missing (``bundle.verify``) if the step did not store it."""
    await start_publisher()
    await send_content(pub_settings, approved(content("tb-goc-luu-tru")))
    await watcher.until_state(did("tb-goc-luu-tru"), S.PUBLISHED)
    fix = correction("tb-dc-luu-tru", "tb-goc-luu-tru")
    await send_content(pub_settings, approved(fix))
    step = did(fix.id, link_account("chinh"))
    await watcher.until_state(step, S.PUBLISHED)

    stored = await stored_payload(watcher, step, archiver)
    assert json.loads(stored)["title"] == fix.title


async def test_an_attempt_cut_short_by_sigkill_still_has_its_payload_archived(
    pub_settings: PublisherSettings,
    platform: FakePlatform,
    watcher: Watcher,
    archiver: ArchiveStore,
    tmp_path: Path,
) -> None:
    """What is sent is committed with the ``publishing`` event that names it, not stored beside the
    call: a publisher killed while its platform call is under way (a process with no archive
    settings at all) has already handed its payload on, and no restart is needed to archive it."""
    await _seed_account(pub_settings, platform, answer_after=30)
    proc = _spawn(pub_settings, "payload-crash", tmp_path / "publisher.log")
    c = content("tb-2026-luu-tru-sigkill", title="Thông báo khẩn: điều chỉnh phân luồng giao thông")
    try:
        await send_content(pub_settings, approved(c))
        await watcher.until_state(did(c.id), S.PUBLISHING)
        deadline = asyncio.get_running_loop().time() + 30
        while not platform.posts():  # the platform took it; its answer is 30 s away
            assert asyncio.get_running_loop().time() < deadline, "the post never reached the platform"
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    stored = await stored_payload(watcher, did(c.id), archiver)
    assert json.loads(stored)["title"] == c.title


async def test_a_payload_too_large_for_kafka_holds_back_nothing_after_it(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    watcher: Watcher,
    archiver: ArchiveStore,
) -> None:
    """A rendered post past ``LOA_KAFKA_MAX_MESSAGE_BYTES`` (a website article near the limit of its
    content event, in production; here a limit of 950 bytes, above every status event (~750) and below
    this post) is refused by the producer: the relay skips that row, loudly and counted, and every
    event after it goes out; the archive lacks that payload alone."""
    limited = pub_settings.model_copy(update={"kafka_max_message_bytes": 950})
    publisher = await start_publisher(settings=limited)
    sentence = "Đoàn kiểm tra liên ngành làm việc tại Đắk Lắk về phòng chống thiên tai. "
    big = content("tb-2026-qua-lon", title=sentence[:118], text=(sentence * 6)[:380])  # ~1.1 kB
    small = content("tb-2026-vua-du", title="Lịch trực Tết")
    await send_content(pub_settings, approved(big), approved(small))
    await watcher.until_state(did(big.id), S.PUBLISHED)  # its status events were not held back
    await watcher.until_state(did(small.id), S.PUBLISHED)

    assert json.loads(await stored_payload(watcher, did(small.id), archiver))["title"] == small.title
    assert payload_key(named_payload(watcher, did(big.id))) not in archiver.keys("payloads/")
    assert publisher.metrics.outbox_too_large._value.get() == 1


async def test_a_published_corrected_retracted_content_is_archived_whole_by_a_real_publisher(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    watcher: Watcher,
    archive_bucket: str,
    minio_client: Minio,
) -> None:
    """The acceptance of #24 item 2 through the real runtime: a publisher sends v1, edits it to the
    correction v2 and takes it down; the archiver (served as its process is) keeps every event; the
    export holds every version, every payload the publisher stored and every answer, and verifies."""
    archive = archiver_settings(pub_settings, archive_bucket)
    await start_publisher()
    c1 = content("tb-2026-dinh-chinh", title="Thông báo lịch tiếp công dân ngày 15/12")
    c2 = content(c1.id, version=2, title="Đính chính: lịch tiếp công dân chuyển sang ngày 16/12")
    async with running_archiver(archive):
        await send_content(pub_settings, approved(c1))
        await watcher.until_state(did(c1.id), S.PUBLISHED)
        await send_content(pub_settings, updated(c2))
        await watcher.until(
            lambda: (
                (last := watcher.last(did(c1.id))) is not None
                and (last.version, last.state) == (2, S.PUBLISHED)
            )
        )
        await send_content(pub_settings, retracted(c1.id))
        await watcher.until_state(did(c1.id), S.RETRACTED)
        store = ArchiveStore(minio_client, archive_bucket)
        # every event of the content on both topics: 3 content events and the channel's statuses,
        # and the payload of each version
        expected = 3 + len(watcher.history[did(c1.id)])

        async def archived() -> bool:
            records = await asyncio.to_thread(store.keys, f"records/{c1.id}/")
            return len(records) >= expected and len(await asyncio.to_thread(store.keys, "payloads/")) >= 2

        await eventually(archived, within=30, what="every event archived")

    key = signing.private_key(signing.new_private_b64())
    files = collect(store, [c1.id])
    verdict = verify(build_zip(files, {"content_ids": [c1.id]}, key), key.public_key())
    assert verdict.ok, verdict.problems
    records = [json.loads(files[k]) for k in sorted(files) if k.startswith("records/")]
    events = [r["event"] for r in records]
    assert [e["type"] for e in events if e["type"] != "delivery.status"] == [
        "content.approved",
        "content.updated",
        "content.retracted",
    ]
    answers = [
        e["payload"] for e in events if e["type"] == "delivery.status" and e["payload"]["account"] == "chinh"
    ]
    published = [a for a in answers if a["state"] == "published"]
    assert [a["version"] for a in published] == [1, 2] and all(a["external_id"] for a in published)
    assert answers[-1]["state"] == "retracted"
    payloads = {json.loads(files[payload_key(a["payload_sha256"])])["title"] for a in published}
    assert payloads == {c1.title, c2.title}  # what was sent, each version

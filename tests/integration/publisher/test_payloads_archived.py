"""What a publisher sends reaches the archive: the rendered post under its SHA-256 in the archive
bucket (object-locked on MinIO, the bucket's default retention), and that hash in the delivery's
status events from the attempt on."""

from __future__ import annotations

import asyncio

import pytest
from conftest import StartPublisher
from minio import Minio
from publisher_helpers import Watcher, approved, content, did, send_content

from loa.archive.records import sha256_hex
from loa.archive.store import ArchiveStore, payload_key
from loa.events import DeliveryState as S
from loa.publisher.settings import PublisherSettings
from tests.conftest import S3_BACKEND

pytestmark = pytest.mark.integration


async def test_the_post_sent_is_archived_and_named_in_the_status_events(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    watcher: Watcher,
    archive_bucket: str,
    minio_client: Minio,
) -> None:
    settings = pub_settings.model_copy(
        update={"publisher_archive_payloads": True, "s3_archive_bucket": archive_bucket}
    )
    publisher = await start_publisher(settings=settings)
    c = content("tb-2026-luu-tru")
    await send_content(settings, approved(c))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    hashes = {d.state: d.payload_sha256 for d in watcher.history[did(c.id)]}
    assert hashes[S.RECEIVED] is None and hashes[S.SCHEDULED] is None  # nothing sent yet
    sha = hashes[S.PUBLISHING]
    assert sha is not None and hashes[S.PUBLISHED] == sha

    assert publisher.payloads is not None
    await publisher.payloads.drain()
    stored = await asyncio.to_thread(ArchiveStore(minio_client, archive_bucket).read, payload_key(sha))
    assert sha256_hex(stored) == sha
    assert "Thông báo lịch tiếp công dân" in stored.decode("utf-8")
    assert b'"progress"' not in stored  # resumable state is not what was sent
    if S3_BACKEND == "minio":  # the bucket's default retention locks it
        assert minio_client.get_object_retention(archive_bucket, payload_key(sha)) is not None

"""A media object referenced but absent from MinIO fails the delivery at once as permanent (not 13+
minutes of transient retries); once it is uploaded, an ops retry publishes it."""

from __future__ import annotations

import asyncio
import hashlib
import io

import pytest
from publisher_fake import FakeAdapter, FakePlatform
from publisher_helpers import Watcher, approved, content, did, retry, send_command, send_content

from loa.channels import Account, Post, PublishResult, TransientError
from loa.events import DeliveryState as S
from loa.events import ErrorClass, MediaRef
from loa.media import MediaStore
from loa.publisher.settings import PublisherSettings
from loa.settings import LoaSettings
from loa.testing.ports import free_port
from tests.integration.publisher.conftest import StartPublisher

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0" + "Ảnh họp báo Đà Nẵng".encode() * 64 + b"\xff\xd9"


class MediaReadingAdapter(FakeAdapter):  # type: ignore[misc]  # tests/ are not on the path mypy reads publisher_fake from
    """Reads its media before posting, and maps every store error onto a transient one, as the
    YouTube adapter's ``map_error`` does (``raise ... from e``)."""

    async def publish(self, post: Post, account: Account) -> PublishResult:
        for media in post.media:
            try:
                await asyncio.to_thread(self.context.media.read_at, media.key, 0, 16)
            except Exception as e:
                raise TransientError(f"media store: {e}") from e
        return await super().publish(post, account)


async def test_missing_media_is_permanent_until_uploaded_and_retried(
    start_publisher: StartPublisher,
    pub_settings: PublisherSettings,
    settings: LoaSettings,
    platform: FakePlatform,
    watcher: Watcher,
) -> None:
    s3 = {
        k: getattr(settings, k) for k in ("s3_endpoint", "s3_access_key", "s3_secret_key", "s3_media_bucket")
    }
    store = MediaStore(settings)
    await asyncio.to_thread(store.ensure_buckets)
    digest = hashlib.sha256(JPEG).hexdigest()
    ref = MediaRef(key=f"sha256/{digest}", sha256=digest, content_type="image/jpeg", size=len(JPEG))
    c = content("anh-bi-thieu").model_copy(update={"media": [ref]})

    await start_publisher(MediaReadingAdapter, pub_settings.model_copy(update=s3))
    await send_content(pub_settings, approved(c))
    failed = await watcher.until_state(did(c.id), S.FAILED)
    assert failed.error is not None
    assert failed.error.error_class is ErrorClass.PERMANENT
    assert failed.error.code == "media_not_found"
    assert f"media sha256/{digest} is not in the media store" in failed.error.message
    assert S.RETRYING not in watcher.states(did(c.id))
    assert failed.attempt == 1

    await asyncio.to_thread(store.put_stream, io.BytesIO(JPEG), "image/jpeg", len(JPEG))
    await send_command(pub_settings, retry(c.id))
    await watcher.until_state(did(c.id), S.PUBLISHED)
    assert [post[2] for post in platform.posts()] == [c.id]


async def test_an_unreachable_media_store_stays_transient(
    start_publisher: StartPublisher, pub_settings: PublisherSettings, watcher: Watcher
) -> None:
    """MinIO down (nothing listens on its port) is an outage, not a missing object: retried."""
    digest = hashlib.sha256(JPEG).hexdigest()
    ref = MediaRef(key=f"sha256/{digest}", sha256=digest, content_type="image/jpeg", size=len(JPEG))
    c = content("kho-anh-ngung").model_copy(update={"media": [ref]})
    down = {"s3_endpoint": f"127.0.0.1:{free_port()}", "publisher_max_attempts": 50}
    await start_publisher(MediaReadingAdapter, pub_settings.model_copy(update=down))
    await send_content(pub_settings, approved(c))
    retrying = await watcher.until_state(did(c.id), S.RETRYING, timeout=60)
    assert retrying.error is not None
    assert retrying.error.error_class is ErrorClass.TRANSIENT
    assert retrying.error.code != "media_not_found"

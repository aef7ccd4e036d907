"""Each service's MinIO user can do what the service does and is refused (AccessDenied) the rest.

The users are made the way the stack's setup makes them (``deploy/local/storage_users.py``) with the
policy of ``loa.access.storage``'s table, for this test's own buckets and under this test's own
names (the stack's ``loa-<service>`` users keep theirs). Root is the harness's, for setup only.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from hashlib import sha256

import pytest
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error
from PIL import Image

from deploy.local.storage_users import ensure_minio_user, minio_admin
from loa.access.storage import STORE_USERS, minio_policy, store_user
from loa.media.store import MediaStore
from loa.settings import LoaSettings
from services.website.site.bucket import SiteBucket
from services.website.views import PageViews
from tests.conftest import Stack

pytestmark = pytest.mark.integration

CAPTION = unicodedata.normalize("NFC", "Ảnh: Đoàn công tác tại Hà Nội")


@contextlib.contextmanager
def service_users(
    stack: Stack, settings: LoaSettings, unique: Callable[[str], str], archive_bucket: str = "loa-archive"
) -> Iterator[Callable[[str], Minio]]:
    """``client_of("ingest")``: a client as a user made the way the setup makes that service's, with
    its policy for this test's buckets, under a name of this test's own; removed at the end."""
    admin = minio_admin(stack.s3_endpoint, stack.s3_access_key, stack.s3_secret_key)
    made: list[str] = []

    def client_of(service: str) -> Minio:
        user = store_user(service)
        assert user is not None, service
        name, secret = unique(user.access_key), secrets.token_urlsafe(24)
        policy = minio_policy(user, settings.s3_media_bucket, settings.s3_website_bucket, archive_bucket)
        ensure_minio_user(admin, name, secret, policy)
        made.append(name)
        return Minio(stack.s3_endpoint, name, secret, secure=False)

    try:
        yield client_of
    finally:
        for name in made:
            admin.user_remove(name)
            admin.policy_remove(name)


@pytest.fixture
def service_store(
    stack: Stack, settings: LoaSettings, unique: Callable[[str], str]
) -> Iterator[Callable[[str], MediaStore]]:
    """``service_store("ingest")``: a MediaStore on this test's buckets as that service's user."""
    MediaStore(settings).ensure_buckets()  # root, as the stack's setup
    with service_users(stack, settings, unique) as client_of:
        yield lambda service: MediaStore(settings, client_of(service))


def denied(action: Callable[[], object]) -> str:
    with pytest.raises(S3Error) as refused:
        action()
    return str(refused.value.code)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def put(client: Minio, bucket: str, key: str, data: bytes = b"x") -> None:
    client.put_object(bucket, key, io.BytesIO(data), len(data))


def test_every_service_with_media_or_the_archive_has_a_user_and_the_listener_none() -> None:
    assert {u.service for u in STORE_USERS} == {
        "ingest",
        "facebook",
        "zalo",
        "youtube",
        "x",
        "webhook",
        "email",
        "tiktok",
        "website",
        "archive",
        "tracker",  # the archive only, read-only (its export)
    }
    assert store_user("listener") is None
    assert store_user("sandbox") is None


def test_the_ingest_stores_checks_and_deletes_media_but_cannot_touch_the_website(
    service_store: Callable[[str], MediaStore],
) -> None:
    ingest = service_store("ingest")
    ingest.ensure_buckets(ingest.bucket)  # what the ingest does at start
    data = jpeg()
    stored = ingest.put_stream(io.BytesIO(data), "image/jpeg", len(data))  # staging, copy, delete
    assert stored.sha256 == sha256(data).hexdigest()
    assert ingest.probe(stored.key).width == 64
    ingest.remove(stored.key)  # a refused upload (a decompression bomb) is deleted
    assert ingest.stat(stored.key) is None

    client = ingest.client
    assert (
        denied(lambda: put(client, ingest.website_bucket, "index.html", CAPTION.encode())) == "AccessDenied"
    )
    assert denied(lambda: client.bucket_exists(ingest.website_bucket)) == "AccessDenied"
    assert denied(lambda: client.make_bucket(f"{ingest.bucket}-2")) == "AccessDenied"


@pytest.mark.parametrize("channel", ["facebook", "zalo", "youtube", "x", "webhook"])
def test_a_publisher_reads_media_and_caches_renditions_but_cannot_change_media(
    service_store: Callable[[str], MediaStore], channel: str
) -> None:
    data = jpeg()
    stored = service_store("ingest").put_stream(io.BytesIO(data), "image/jpeg", len(data))
    publisher = service_store(channel)
    assert b"".join(publisher.iter_bytes(stored.key)) == data
    rendition = publisher.rendition_sync(stored, "thumbnail")  # made once, cached under renditions/
    assert rendition.key.startswith("renditions/")

    client, media = publisher.client, publisher.bucket
    assert denied(lambda: put(client, media, stored.key)) == "AccessDenied"  # overwrite an original
    assert denied(lambda: put(client, media, "sha256/forged")) == "AccessDenied"
    assert denied(lambda: client.remove_object(media, stored.key)) == "AccessDenied"
    assert denied(lambda: client.remove_object(media, rendition.key)) == "AccessDenied"
    assert denied(lambda: put(client, publisher.website_bucket, "index.html")) == "AccessDenied"
    assert denied(lambda: client.set_bucket_policy(media, "{}")) == "AccessDenied"


def test_tiktok_reads_a_video_by_ranges_and_writes_nothing(
    service_store: Callable[[str], MediaStore],
) -> None:
    data = secrets.token_bytes(300_000)
    stored = service_store("ingest").put_stream(io.BytesIO(data), "video/mp4", len(data))
    tiktok = service_store("tiktok")
    response = tiktok.open(stored.key, 100_000, 50_000)  # one chunk's ranged GET (services/tiktok/api.py)
    try:
        assert response.read() == data[100_000:150_000]
    finally:
        response.close()
        response.release_conn()
    client, media = tiktok.client, tiktok.bucket
    assert denied(lambda: put(client, media, "renditions/x/tiktok")) == "AccessDenied"  # no renditions
    assert denied(lambda: put(client, media, stored.key)) == "AccessDenied"
    assert denied(lambda: client.remove_object(media, stored.key)) == "AccessDenied"
    assert denied(lambda: put(client, tiktok.website_bucket, "index.html")) == "AccessDenied"


def test_the_website_publishes_and_withdraws_in_its_bucket_but_cannot_change_media(
    service_store: Callable[[str], MediaStore],
) -> None:
    data = jpeg()
    stored = service_store("ingest").put_stream(io.BytesIO(data), "image/jpeg", len(data))
    website = service_store("website")
    website.ensure_buckets(website.website_bucket)  # what the website's server does at start
    public_key = website.publish_public(stored, "article-1")  # server-side copy media -> website
    page = f"<h1>{CAPTION}</h1>".encode()
    put(website.client, website.website_bucket, "tin-tuc/doan-cong-tac.html", page)
    website.release_public([stored.sha256], "article-1")  # lists, deletes
    assert public_key

    client, media, page_source = (
        website.client,
        website.bucket,
        CopySource(website.website_bucket, "tin-tuc/doan-cong-tac.html"),
    )
    assert denied(lambda: put(client, media, "sha256/forged")) == "AccessDenied"
    assert denied(lambda: client.copy_object(media, "sha256/forged", page_source)) == "AccessDenied"
    assert denied(lambda: client.remove_object(media, stored.key)) == "AccessDenied"
    client.remove_object(website.website_bucket, "tin-tuc/doan-cong-tac.html")


def test_the_website_server_keeps_page_views_in_the_private_bucket_and_nowhere_else(
    service_store: Callable[[str], MediaStore],
) -> None:
    website = service_store("website")
    key = "2026/12/so-tttt-da-nang-lich-tiep-cong-dan-6yart001.html"
    mine = PageViews(SiteBucket(website.client, website.bucket), replica="ban-sao-1")
    others = PageViews(SiteBucket(website.client, website.bucket), replica="ban-sao-2")
    for _ in range(3):
        mine.hit(key)
    others.hit(key)
    assert mine.flush() == 1 and others.flush() == 1  # put, as its own user
    assert mine.total(key) == 4  # lists and reads the other replica's object
    client, media = website.client, website.bucket
    assert denied(lambda: client.remove_object(media, f"page-views/{key}/ban-sao-2")) == "AccessDenied"
    assert denied(lambda: put(client, media, "views/forged")) == "AccessDenied"


def test_zalo_copies_an_articles_images_into_the_public_bucket_and_nothing_else(
    service_store: Callable[[str], MediaStore],
) -> None:
    data = jpeg()
    stored = service_store("ingest").put_stream(io.BytesIO(data), "image/jpeg", len(data))
    zalo = service_store("zalo")
    key = zalo.publish_public(stored, "zalo:tcbc-2026-chuyen-doi-so")  # when it sends the article
    assert zalo.client.stat_object(zalo.website_bucket, key).size == len(data)

    client, website = zalo.client, zalo.website_bucket
    assert (
        denied(lambda: put(client, website, "2026/12/trang-gia-mao.html", CAPTION.encode())) == "AccessDenied"
    )
    assert (
        denied(lambda: put(client, website, f"_index/media-users/{stored.sha256}/website:x"))
        == "AccessDenied"
    )
    assert denied(lambda: client.remove_object(website, key)) == "AccessDenied"
    assert denied(lambda: list(client.list_objects(website))) == "AccessDenied"


@pytest.fixture
def archive_client(
    stack: Stack, settings: LoaSettings, archive_bucket: str, unique: Callable[[str], str]
) -> Iterator[Callable[[str], Minio]]:
    """``archive_client("archive")``: a client as that service's user, its policy naming this
    test's object-locked archive bucket."""
    with service_users(stack, settings, unique, archive_bucket) as client_of:
        yield client_of


def test_the_archive_is_appended_to_locked_and_never_deleted_or_overwritten_by_any_service(
    archive_client: Callable[[str], Minio], archive_bucket: str
) -> None:
    from loa.archive.records import Source
    from loa.archive.retention import Retention
    from loa.archive.store import ArchiveStore, payload_key

    archiver = ArchiveStore(archive_client("archive"), archive_bucket)
    assert archiver.lock_supported()  # it may read the lock configuration
    event_id = "00000000-0000-4000-8000-000000000001"
    raw = ('{"event_id": "' + event_id + '", "note": "' + CAPTION + '"}').encode()
    until = Retention.parse("default=1d").until
    appended = archiver.append(
        "thong-cao-01", event_id, raw, Source("loa.delivery.v1", 0, 1), "press_release", until
    )
    assert appended is not None and appended.locked
    assert denied(lambda: archiver.client.remove_object(archive_bucket, appended.key)) == "AccessDenied"

    sent = '{"texts": ["Thông báo"]}'.encode()
    archiver.put_payload("a" * 64, sent)  # what a publisher sent, read off loa.payload.v1
    assert archiver.read(payload_key("a" * 64)) == sent
    # a publisher has nothing here: what it sends reaches the archive through Kafka
    facebook = ArchiveStore(archive_client("facebook"), archive_bucket)
    assert denied(lambda: facebook.put_payload("b" * 64, sent)) == "AccessDenied"
    assert denied(lambda: facebook.read(payload_key("a" * 64))) == "AccessDenied"
    assert (
        denied(lambda: put(facebook.client, archive_bucket, "records/thong-cao-01/000002-x.json"))
        == "AccessDenied"
    )
    assert (
        denied(lambda: facebook.client.remove_object(archive_bucket, payload_key("a" * 64))) == "AccessDenied"
    )

    tracker = ArchiveStore(archive_client("tracker"), archive_bucket)
    assert tracker.keys("records/") == [appended.key] and tracker.read(appended.key)
    assert (
        denied(lambda: put(tracker.client, archive_bucket, "records/thong-cao-01/000002-x.json"))
        == "AccessDenied"
    )

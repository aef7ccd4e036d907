"""The media store on real MinIO: streaming put, probe by ranges, renditions made once."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import httpx
import pytest
from PIL import Image

from loa.events import MediaRef
from loa.media import MediaStore
from loa.media.fit import fit_image
from loa.settings import LoaSettings
from services.x.adapter import IMAGE_PROFILE as X_IMAGE_PROFILE
from services.youtube.thumbnail import fit_thumbnail
from services.zalo.adapter import IMAGE_PROFILE as ZALO_IMAGE_PROFILE

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


@pytest.fixture
def store(settings: LoaSettings) -> MediaStore:
    media = MediaStore(settings)
    media.ensure_buckets()
    return media


async def test_probe_from_minio(store: MediaStore) -> None:
    with (SAMPLES / "video-ngan.mp4").open("rb") as f:
        video = store.put_stream(f, "video/mp4")
    info = await store.aprobe(video.key)
    assert (info.width, info.height, info.duration_s) == (320, 180, 3.0)


async def test_rendition_is_made_once_and_served_presigned(store: MediaStore) -> None:
    with (SAMPLES / "anh-bia.jpg").open("rb") as f:
        image = store.put_stream(f, "image/jpeg")
    first = await store.rendition(image, "thumbnail")
    assert first.key == f"renditions/{image.sha256}/thumbnail"
    assert (first.width, first.height) == (400, 225)
    assert first.size <= 100 * 1024
    made_at = store.client.stat_object(store.bucket, first.key).last_modified
    second = await store.rendition(image.key, "thumbnail")
    assert second.key == first.key
    assert (second.width, second.height, second.size) == (first.width, first.height, first.size)
    assert store.client.stat_object(store.bucket, first.key).last_modified == made_at  # not made again
    async with httpx.AsyncClient() as client:
        response = await client.get(second.url)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (400, 225)
    assert hashlib.sha256(response.content).hexdigest() != image.sha256


async def test_rendition_of_a_video_is_refused(store: MediaStore) -> None:
    from loa.media import RenditionError

    with (SAMPLES / "video-ngan.mp4").open("rb") as f:
        video = store.put_stream(f, "video/mp4")
    with pytest.raises(RenditionError):
        await store.rendition(video, X_IMAGE_PROFILE)


def test_declared_sha256_goes_straight_to_its_address_or_not_at_all(store: MediaStore) -> None:
    import os

    from loa.media import IntegrityError

    data = b"\0\0\0\x18ftypisom" + os.urandom(11 * 1024 * 1024)  # three 5 MiB parts (MinIO's minimum)
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(IntegrityError):
        store.put_stream_expecting(io.BytesIO(data), "video/mp4", "0" * 64, part_size=5 * 1024 * 1024)
    assert not store.exists("sha256/" + "0" * 64)
    stored = store.put_stream_expecting(io.BytesIO(data), "video/mp4", digest, part_size=5 * 1024 * 1024)
    assert (stored.key, stored.size) == (f"sha256/{digest}", len(data))
    assert hashlib.sha256(b"".join(store.iter_bytes(stored.key))).hexdigest() == digest
    assert list(store.client.list_objects(store.bucket, prefix="staging/")) == []
    again = store.put_stream_expecting(io.BytesIO(data), "video/mp4", digest)  # exists: only checked
    assert again == stored
    with pytest.raises(IntegrityError):
        store.put_stream_expecting(io.BytesIO(data[:-1]), "video/mp4", digest)


def _noisy_png(store: MediaStore, width: int, height: int) -> MediaRef:
    data = io.BytesIO()
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    noise.save(data, "PNG", compress_level=1)
    stored = store.put_stream(io.BytesIO(data.getvalue()), "image/png")
    return MediaRef(
        key=stored.key, sha256=stored.sha256, content_type="image/png", size=stored.size, alt="Ảnh hội nghị"
    )


async def test_fit_image_keeps_what_fits_else_stores_its_rendition_by_hash(store: MediaStore) -> None:
    small = _noisy_png(store, 64, 48)
    assert await fit_image(store, small, ZALO_IMAGE_PROFILE) is small
    big = _noisy_png(store, 1400, 1000)
    assert big.size > 1024 * 1024
    fitted = await fit_image(store, big, ZALO_IMAGE_PROFILE)
    assert fitted.key == f"sha256/{fitted.sha256}" and fitted.alt == "Ảnh hội nghị"
    assert fitted.content_type == "image/jpeg" and fitted.size <= 1024 * 1024
    data = b"".join(store.iter_bytes(fitted.key))
    assert hashlib.sha256(data).hexdigest() == fitted.sha256 and len(data) == fitted.size
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (fitted.width, fitted.height)
        assert max(image.size) <= 2048
    cached = store.client.stat_object(store.bucket, f"renditions/{big.sha256}/zalo_image")
    assert cached.size == fitted.size  # the rendition is made once; the post's copy is the same bytes


def test_youtube_thumbnail_of_a_big_png_is_a_jpeg_within_1280x720_under_2_mb(store: MediaStore) -> None:
    big = _noisy_png(store, 1920, 1080)
    assert big.size >= 2 * 1024 * 1024
    data, mimetype = fit_thumbnail(store, big)
    assert mimetype == "image/jpeg" and len(data) < 2 * 1024 * 1024
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
    small = _noisy_png(store, 320, 180)
    assert fit_thumbnail(store, small) == (b"".join(store.iter_bytes(small.key)), "image/png")

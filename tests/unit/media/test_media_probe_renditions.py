"""Probing image size and MP4 duration from ranges; renditions fit their profile."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image

from loa.media.probe import MediaInfo, bytes_reader, probe
from loa.media.renditions import PROFILES, Profile, RenditionError, make_rendition
from services.x.adapter import IMAGE_PROFILE as X_IMAGE_PROFILE

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        return box(
            b"mvhd", bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, timescale, duration) + b"\0" * 80
        )
    return box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, timescale, duration) + b"\0" * 80)


def tkhd(width: int, height: int) -> bytes:
    return box(b"tkhd", bytes(4) + b"\0" * 72 + struct.pack(">II", width << 16, height << 16))


def test_probe_the_sample_image_and_video() -> None:
    jpeg = (SAMPLES / "anh-bia.jpg").read_bytes()
    assert probe(bytes_reader(jpeg), len(jpeg), "image/jpeg") == MediaInfo(1600, 900, None)
    mp4 = (SAMPLES / "video-ngan.mp4").read_bytes()
    assert probe(bytes_reader(mp4), len(mp4), "video/mp4") == MediaInfo(320, 180, 3.0)


def test_mp4_with_moov_at_the_end_and_64_bit_mvhd() -> None:
    mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 5000) + b"\0" * 5000  # a 64-bit size box first
    audio = box(b"trak", tkhd(0, 0))
    video = box(b"trak", tkhd(1920, 1080))
    data = (
        box(b"ftyp", b"isom\0\0\0\0")
        + mdat
        + box(b"moov", mvhd(90000, 90000 * 125, version=1) + audio + video)
    )
    assert probe(bytes_reader(data), len(data), "video/mp4") == MediaInfo(1920, 1080, 125.0)


def test_what_is_not_probed_stays_unset() -> None:
    truncated = box(b"ftyp", b"isom") + struct.pack(">I4s", 10_000, b"moov")
    assert probe(bytes_reader(truncated), len(truncated), "video/mp4") == MediaInfo()
    assert probe(bytes_reader(b"\x1aE\xdf\xa3webm"), 8, "video/webm") == MediaInfo()
    assert probe(bytes_reader(b"not an image"), 12, "image/png") == MediaInfo()


def _png(width: int, height: int, noisy: bool = False) -> io.BytesIO:
    image = (
        Image.effect_noise((width, height), 120).convert("RGB")
        if noisy
        else Image.new("RGB", (width, height), "red")
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    out.seek(0)
    return out


def test_rendition_fits_the_box_and_keeps_the_ratio() -> None:
    cover = Profile("cover", 1280, 720, 1024 * 1024)  # a 16:9 box of 1 MB
    rendered = make_rendition(_png(3000, 1500), cover)
    assert (rendered.width, rendered.height) == (1280, 640)
    assert rendered.content_type == "image/jpeg"
    assert len(rendered.data) <= cover.max_bytes
    assert Image.open(io.BytesIO(rendered.data)).format == "JPEG"


def test_rendition_lowers_quality_then_size_to_fit_the_bytes() -> None:
    tiny = Profile("tiny", 2000, 2000, 40_000)
    rendered = make_rendition(_png(1200, 1200, noisy=True), tiny)
    assert len(rendered.data) <= 40_000
    assert rendered.width < 1200  # noise does not compress: it had to shrink


def test_rendition_of_something_that_is_not_an_image() -> None:
    with pytest.raises(RenditionError):
        make_rendition(io.BytesIO(b"<html>"), PROFILES["thumbnail"])


def test_x_profile_is_at_most_5_mb() -> None:
    assert X_IMAGE_PROFILE.max_bytes == 5 * 1024 * 1024

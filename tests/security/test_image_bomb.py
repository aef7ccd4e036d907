"""An image whose header declares a decompression bomb is refused before anything decodes it.

The PNGs are a real header (PNG spec: signature, IHDR with width/height, IDAT, IEND, CRC-32 per chunk)
declaring a size, with almost no pixel data: a few dozen bytes that claim gigabytes once decoded.
"""

import hashlib
import struct
import zlib

import httpx
import pytest

from loa.media import MediaStore
from loa.media.probe import MAX_IMAGE_PIXELS, ImageBombError, MediaInfo, bytes_reader, probe
from tests.integration.ingest.conftest import LiveIngest, live_ingest  # noqa: F401 (the fixture)


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    chunks = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def probe_png(width: int, height: int) -> MediaInfo:
    data = png_header(width, height)
    return probe(bytes_reader(data), len(data), "image/png")


def test_an_ordinary_photo_size_is_probed() -> None:
    assert probe_png(4000, 3000) == MediaInfo(width=4000, height=3000)


@pytest.mark.parametrize(("width", "height"), [(10_000, 10_000), (100_000, 100_000), (2**31 - 1, 1)])
def test_a_declared_bomb_is_refused_naming_its_size(width: int, height: int) -> None:
    assert width * height > MAX_IMAGE_PIXELS
    with pytest.raises(ImageBombError, match="pixels, above 89,478,485 pixels"):
        probe_png(width, height)


@pytest.mark.integration
async def test_the_ingest_refuses_a_bomb_with_422_and_keeps_nothing(live_ingest: LiveIngest) -> None:  # noqa: F811
    bomb = png_header(50_000, 50_000)
    async with httpx.AsyncClient(base_url=live_ingest.url, timeout=30) as client:
        response = await client.post(
            "/api/v1/media",
            content=bomb,
            headers={**live_ingest.auth(live_ingest.uploader), "Content-Type": "image/png"},
        )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["fields"][0]["field"] == "body"
    assert "2,500,000,000 pixels" in error["message"]  # 50,000 × 50,000
    stored = MediaStore(live_ingest.settings)
    assert not stored.exists("sha256/" + hashlib.sha256(bomb).hexdigest())

"""An image whose header declares a decompression bomb is refused before anything decodes it.

The PNGs are a real header (PNG spec: signature, IHDR with width/height, IDAT, IEND, CRC-32 per chunk)
declaring a size, with almost no pixel data: a few dozen bytes that claim gigabytes once decoded.
"""

import struct
import zlib

import pytest

from loa.media.probe import MAX_IMAGE_PIXELS, ImageBombError, MediaInfo, bytes_reader, probe


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

"""What a media object is: image width/height (Pillow), MP4/QuickTime duration and size (box parsing).

Probing reads ranges, never a whole file: ``read_at(offset, length)`` is a ranged GET on MinIO.
MP4 and QuickTime (``video/mp4``, ``video/quicktime``) are probed by walking the ISO BMFF boxes
(ISO/IEC 14496-12: ``moov/mvhd`` for timescale + duration, ``moov/trak/tkhd`` for the picture
size), wherever ``moov`` sits (start or end of the file). Not probed: other video containers
(WebM/Matroska, AVI, MPEG-TS), fragmented MP4 without a ``mvhd`` duration, and images Pillow
cannot identify from their first ``IMAGE_HEAD_MAX`` bytes; those keep width/height/duration unset.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, length)``: up to ``length`` bytes from ``offset`` (fewer at the end)."""

IMAGE_HEAD_SIZES = (64 * 1024, 1024 * 1024, 8 * 1024 * 1024)
IMAGE_HEAD_MAX = IMAGE_HEAD_SIZES[-1]
MP4_TYPES = frozenset({"video/mp4", "video/quicktime"})
_MAX_BOXES = 10_000


class ImageBombError(ValueError):
    """An image whose header declares more pixels than may ever be decoded (a decompression bomb).

    A few kilobytes of PNG can declare 100,000 × 100,000 pixels: 40 GB once decoded, by whoever
    decodes it later (renditions, a platform's thumbnailer, an editor's browser). Refused at the door.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(f"the image declares {detail}, above {MAX_IMAGE_PIXELS:,} pixels: not accepted")


# Pillow's own bound (Image.MAX_IMAGE_PIXELS: 89,478,485, "a decompression bomb DOS attack", Pillow
# docs, Image.open); a 24-bit image of that size is 256 MiB decoded. Kept as our constant so the rule
# does not move if Pillow's default does.
MAX_IMAGE_PIXELS = 89_478_485


@dataclass(frozen=True)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def probe(read_at: ReadAt, size: int, content_type: str) -> MediaInfo:
    """Width/height of an image, duration (and size) of an MP4/QuickTime video, else nothing."""
    if content_type.startswith("image/"):
        return probe_image(read_at, size)
    if content_type in MP4_TYPES:
        return probe_mp4(read_at, size)
    return MediaInfo()


def probe_image(read_at: ReadAt, size: int) -> MediaInfo:
    """Let Pillow read the header from a growing head of the file (the pixels are not decoded).

    Raises ``ImageBombError`` when the header declares more than ``MAX_IMAGE_PIXELS``.
    """
    from PIL import Image, UnidentifiedImageError  # here: Pillow costs 7 MB that only images need

    for head_size in IMAGE_HEAD_SIZES:
        head = read_at(0, min(head_size, size))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(head)) as image:
                    width, height = image.size
        except Image.DecompressionBombError as e:  # Pillow refuses above twice its bound
            declared = re.search(r"\((\d+) pixels\)", str(e))  # "Image size (N pixels) exceeds ..."
            raise ImageBombError(f"{int(declared[1]):,} pixels" if declared else "too many pixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, struct.error):
            if head_size >= size:
                break
            continue
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageBombError(f"{width} × {height} pixels")
        return MediaInfo(width=width, height=height)
    return MediaInfo()


def _boxes(read_at: ReadAt, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload offset, payload end)`` of the boxes between ``start`` and ``end``."""
    offset = start
    for _ in range(_MAX_BOXES):
        if offset + 8 > end:
            return
        header = read_at(offset, 16)
        if len(header) < 8:
            return
        box_size, box_type = struct.unpack(">I4s", header[:8])
        payload = offset + 8
        if box_size == 1:  # 64-bit size follows the type
            if len(header) < 16:
                return
            (box_size,) = struct.unpack(">Q", header[8:16])
            payload = offset + 16
        elif box_size == 0:  # the box runs to the end of its container
            box_size = end - offset
        if box_size < payload - offset or offset + box_size > end:
            return
        yield box_type, payload, offset + box_size
        offset += box_size


def _find(read_at: ReadAt, start: int, end: int, box_type: bytes) -> Iterator[tuple[int, int]]:
    for found, payload, box_end in _boxes(read_at, start, end):
        if found == box_type:
            yield payload, box_end


def _mvhd_duration(data: bytes) -> float | None:
    version = data[0]
    timescale: int
    duration: int
    if version == 1:
        timescale, duration = struct.unpack(">IQ", data[20:32])
    else:
        timescale, duration = struct.unpack(">II", data[12:20])
    if timescale == 0 or duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return round(float(duration) / timescale, 3)


def _tkhd_size(data: bytes) -> tuple[int, int] | None:
    # width and height are the last 8 bytes of tkhd, as 16.16 fixed point
    width, height = struct.unpack(">II", data[-8:])
    width, height = width >> 16, height >> 16
    return (width, height) if width and height else None


def probe_mp4(read_at: ReadAt, size: int) -> MediaInfo:
    """Duration from ``moov/mvhd``, picture size from the first video ``trak/tkhd``."""
    try:
        for moov, moov_end in _find(read_at, 0, size, b"moov"):
            duration = None
            dimensions = None
            for box_type, payload, box_end in _boxes(read_at, moov, moov_end):
                if box_type == b"mvhd":
                    duration = _mvhd_duration(read_at(payload, min(box_end - payload, 120)))
                elif box_type == b"trak" and dimensions is None:
                    for tkhd, tkhd_end in _find(read_at, payload, box_end, b"tkhd"):
                        dimensions = _tkhd_size(read_at(tkhd, tkhd_end - tkhd))
            width, height = dimensions or (None, None)
            return MediaInfo(width=width, height=height, duration_s=duration)
    except (struct.error, IndexError):
        pass
    return MediaInfo()


def bytes_reader(data: bytes) -> ReadAt:
    """A ``read_at`` over bytes in memory (tests, small files)."""
    return lambda offset, length: data[offset : offset + length]

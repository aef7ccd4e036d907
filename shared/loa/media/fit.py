"""Fit an image under a channel's byte limit: re-encode as JPEG (then shrink) and store the result.

Interim, for the X and Zalo channels, until ``MediaStore.rendition`` (profiles ``x_image``,
``zalo_cover``) lands on main; then ``fit_image`` becomes a call to it. The source is streamed from
MinIO into a spooled temporary file (on disk above ``SPOOL_MAX``: Pillow needs a seekable file);
only the encoded result, which is under the limit, is held in memory.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import warnings
from typing import IO

from PIL import Image, ImageOps

from loa.events import MediaRef
from loa.media.store import MediaStore

SPOOL_MAX = 8 * 1024 * 1024
MAX_SOURCE_PIXELS = 100_000_000
"""Refuse to decode bigger pictures (a decompression bomb guard)."""
QUALITIES = (88, 80, 72, 64, 55, 45)
SHRINK = 0.8


class FitError(ValueError):
    """The image cannot be read or cannot be brought under the limit."""


def _encode(image: Image.Image, max_bytes: int) -> tuple[bytes, tuple[int, int]]:
    """The JPEG bytes within ``max_bytes`` and the size of the picture they hold."""
    while True:
        for quality in QUALITIES:
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return out.getvalue(), image.size
        if min(image.size) < 32:
            raise FitError(f"cannot bring the image under {max_bytes} bytes")
        image = image.resize(
            (int(image.width * SHRINK), int(image.height * SHRINK)), Image.Resampling.LANCZOS
        )


def _open(source: IO[bytes]) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(source)
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise FitError(f"the image has {image.width}x{image.height} pixels, too many to re-encode")
            image.load()
        except (OSError, SyntaxError, Image.DecompressionBombWarning) as e:
            raise FitError(f"not a readable image: {e}") from e
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB") if image.mode != "RGB" else image


def fit_image_sync(store: MediaStore, media: MediaRef, max_bytes: int, max_side: int = 4096) -> MediaRef:
    """``media`` itself if it fits, else a JPEG of at most ``max_bytes`` stored content-addressed."""
    if media.size <= max_bytes:
        return media
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as spool:
        for chunk in store.iter_bytes(media.key):
            spool.write(chunk)
        spool.seek(0)
        image = _open(spool)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    data, (width, height) = _encode(image, max_bytes)
    stored = store.put_stream(io.BytesIO(data), "image/jpeg", len(data))
    return media.model_copy(
        update={
            "key": stored.key,
            "sha256": stored.sha256,
            "content_type": "image/jpeg",
            "size": stored.size,
            "width": width,
            "height": height,
        }
    )


async def fit_image(store: MediaStore, media: MediaRef, max_bytes: int, max_side: int = 4096) -> MediaRef:
    """Off the event loop: see ``fit_image_sync``."""
    if media.size <= max_bytes:
        return media
    return await asyncio.to_thread(fit_image_sync, store, media, max_bytes, max_side)

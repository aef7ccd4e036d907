"""The custom thumbnail: the content's first image, re-encoded to fit YouTube's rules.

Source: https://developers.google.com/youtube/v3/docs/thumbnails/set and the YouTube Help
Center's custom thumbnail guidance: JPEG or PNG, under 2 MB, 1280×720 recommended (16:9).
"""

from __future__ import annotations

import io

from PIL import Image

from loa.events import MediaRef
from loa.media import MediaStore

MAX_BYTES = 2 * 1024 * 1024
MAX_SIZE = (1280, 720)
SOURCE_MAX_BYTES = 50 * 1024 * 1024
"""An image larger than this is not read (thumbnails.set's own maxSize is 50 MB)."""


def fit_thumbnail(media: MediaStore, image: MediaRef) -> tuple[bytes, str]:
    """(bytes, mimetype) of the image as YouTube accepts it: kept if a JPEG/PNG under 2 MB, else
    re-encoded as a JPEG within 1280×720 at decreasing quality until it fits."""
    if image.size > SOURCE_MAX_BYTES:
        raise ValueError(f"thumbnail source {image.key} is {image.size} bytes, over {SOURCE_MAX_BYTES}")
    response = media.open(image.key)
    try:
        data = response.read()
    finally:
        response.close()
        response.release_conn()
    if image.content_type in {"image/jpeg", "image/png"} and len(data) < MAX_BYTES:
        return data, image.content_type
    with Image.open(io.BytesIO(data)) as source:
        picture = source.convert("RGB")
    picture.thumbnail(MAX_SIZE)
    for quality in (90, 80, 70, 60, 50):
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() < MAX_BYTES:
            return out.getvalue(), "image/jpeg"
    raise ValueError(f"thumbnail {image.key} does not fit {MAX_BYTES} bytes even re-encoded")

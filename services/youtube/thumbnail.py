"""The custom thumbnail: the content's first image, as YouTube takes it.

YouTube's rules (JPEG or PNG under 2 MB, 1280×720 recommended) are the ``youtube_thumbnail``
rendition profile below, with their source.
"""

from __future__ import annotations

from loa.events import MediaRef
from loa.media import MediaStore, Profile

# YouTube custom thumbnail: JPEG or PNG under 2 MB (so at most 2 MiB - 1 bytes), 1280x720
# recommended (16:9). Source: https://developers.google.com/youtube/v3/docs/thumbnails/set
# and the YouTube Help Center's custom thumbnail guidance.
PROFILE = Profile("youtube_thumbnail", 1280, 720, 2 * 1024 * 1024 - 1)
MAX_BYTES = PROFILE.max_bytes + 1
"""Under 2 MB: a kept original must be smaller than this."""
SOURCE_MAX_BYTES = 50 * 1024 * 1024
"""An image larger than this is not read (thumbnails.set's own maxSize is 50 MB)."""


def _read(media: MediaStore, key: str) -> bytes:
    return b"".join(media.iter_bytes(key))


def fit_thumbnail(media: MediaStore, image: MediaRef) -> tuple[bytes, str]:
    """(bytes, mimetype) of the image as YouTube accepts it: kept if a JPEG/PNG under 2 MB, else
    its ``youtube_thumbnail`` rendition (a JPEG within 1280×720 that fits, made once and cached)."""
    if image.size > SOURCE_MAX_BYTES:
        raise ValueError(f"thumbnail source {image.key} is {image.size} bytes, over {SOURCE_MAX_BYTES}")
    if image.content_type in {"image/jpeg", "image/png"} and image.size < MAX_BYTES:
        data = _read(media, image.key)
        if len(data) < MAX_BYTES:
            return data, image.content_type
    rendition = media.rendition_sync(image, PROFILE)
    return _read(media, rendition.key), rendition.content_type

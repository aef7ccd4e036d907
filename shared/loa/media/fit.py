"""A channel's image as a ``MediaRef``: the original if it fits the profile's bytes, else its rendition.

``MediaStore.rendition_sync`` makes (once) and caches the profile's rendition; a post carries media
by content address, so the rendition is also stored under ``sha256/<hex>`` and described by a
``MediaRef`` that keeps the original's alt text and caption.
"""

from __future__ import annotations

import asyncio

from loa.events import MediaRef
from loa.media.renditions import PROFILES, Profile
from loa.media.store import MediaStore


def fit_image_sync(store: MediaStore, media: MediaRef, profile: Profile | str) -> MediaRef:
    """``media`` itself if it fits ``profile.max_bytes``, else its rendition stored content-addressed.

    Raises ``RenditionError`` if the image cannot be read or brought under the limit.
    """
    spec = PROFILES[profile] if isinstance(profile, str) else profile
    if media.size <= spec.max_bytes:
        return media
    rendition = store.rendition_sync(media, spec)
    response = store.open(rendition.key)
    try:
        stored = store.put_stream(response, rendition.content_type, rendition.size)
    finally:
        response.close()
        response.release_conn()
    return media.model_copy(
        update={
            "key": stored.key,
            "sha256": stored.sha256,
            "content_type": rendition.content_type,
            "size": stored.size,
            "width": rendition.width or None,
            "height": rendition.height or None,
        }
    )


async def fit_image(store: MediaStore, media: MediaRef, profile: Profile | str) -> MediaRef:
    """Off the event loop: see ``fit_image_sync``."""
    spec = PROFILES[profile] if isinstance(profile, str) else profile
    if media.size <= spec.max_bytes:
        return media
    return await asyncio.to_thread(fit_image_sync, store, media, spec)

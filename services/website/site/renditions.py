"""The narrower copies of an article's images that the pages' ``srcset`` offers.

A phone downloads the 480 px copy instead of a 1,200 px original; browsers choose by the
``sizes`` of ``templates/figure.html`` and the screen's density (HTML Standard, "srcset"
attribute with width descriptors). Each copy is made once by ``loa.media`` (cached in the media
bucket under ``renditions/<sha256>/<profile>``, the one key there the website may write) and
copied server-side to the public bucket like any media (``media/renditions/<sha256>/<profile>``),
so a retraction releases them with the original.
"""

from __future__ import annotations

import logging

from loa.events import MediaRef
from loa.media import MediaStore, Profile, Rendition, RenditionError

log = logging.getLogger(__name__)

# JPEG at falling quality until under the byte budget (loa.media.renditions); the height bound is
# loose, so a portrait photo keeps its width.
PROFILES = (
    Profile("website_480", 480, 1440, 120 * 1024),
    Profile("website_960", 960, 2880, 350 * 1024),
)


def renditions_of(store: MediaStore, image: MediaRef) -> list[Rendition]:
    """The copies narrower than ``image`` (none for a GIF, which may be animated, or an image of
    unknown width)."""
    if not image.is_image or image.content_type == "image/gif" or not image.width:
        return []
    try:
        return [store.rendition_sync(image, p) for p in PROFILES if p.max_width < image.width]
    except RenditionError as e:  # the page shows the original alone
        log.warning("no narrower copies of %s: %s", image.key, e)
        return []

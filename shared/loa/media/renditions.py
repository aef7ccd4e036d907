"""Image renditions for channel profiles: resize and re-encode once, cache under the source hash.

A profile is declarative: the largest picture (pixels) and file (bytes) a channel takes, and the
format. ``make_rendition`` fits the image inside the box and lowers the JPEG/WebP quality, then the
size, until the file fits. The store caches the result under ``renditions/<sha256>/<profile>``.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

MAX_SOURCE_PIXELS = 100_000_000
"""Refuse to decode bigger pictures (a decompression bomb guard: ~400 MB of RGBA)."""
QUALITY_STEPS = (88, 80, 72, 64, 55, 45)
SHRINK_STEP = 0.8


class RenditionError(ValueError):
    """The source cannot become this rendition (not an image, too big, cannot fit the size)."""


@dataclass(frozen=True)
class Profile:
    name: str
    max_width: int
    max_height: int
    max_bytes: int
    format: str = "JPEG"
    """A Pillow format name: JPEG, PNG or WEBP."""

    @property
    def content_type(self) -> str:
        return f"image/{self.format.lower()}"


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        # Lists in the tracker and the website.
        Profile("thumbnail", 400, 400, 100 * 1024),
    )
}
"""Profiles that are no channel's, by name. A channel declares its own beside the code that uses
it (``services/<channel>/``), with the platform's source: ``IMAGE_PROFILE`` of the X adapter."""


@dataclass(frozen=True)
class RenderedImage:
    data: bytes
    width: int
    height: int
    content_type: str


def _open(source: IO[bytes]) -> Image.Image:
    from PIL import Image, ImageOps  # here: Pillow costs 7 MB a publisher only needs for a rendition

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise RenditionError(f"source has {image.width}x{image.height} pixels, too many")
            image.load()
        except (OSError, SyntaxError, Image.DecompressionBombWarning) as e:
            raise RenditionError(f"not a readable image: {e}") from e
    return ImageOps.exif_transpose(image)


def _encode(image: Image.Image, profile: Profile, quality: int) -> bytes:
    out = io.BytesIO()
    if profile.format in {"JPEG"} and image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    options: dict[str, object] = {"optimize": True}
    if profile.format in {"JPEG", "WEBP"}:
        options["quality"] = quality
    image.save(out, profile.format, **options)
    return out.getvalue()


def make_rendition(source: IO[bytes], profile: Profile) -> RenderedImage:
    """Fit ``source`` (a seekable image file) inside ``profile``; raise ``RenditionError`` if it cannot."""
    from PIL import Image

    image = _open(source)
    image.thumbnail((profile.max_width, profile.max_height), Image.Resampling.LANCZOS)
    while True:
        for quality in QUALITY_STEPS:
            data = _encode(image, profile, quality)
            if len(data) <= profile.max_bytes:
                return RenderedImage(data, image.width, image.height, profile.content_type)
            if profile.format == "PNG":
                break  # quality does not apply: shrink instead
        if image.width < 16 or image.height < 16:
            raise RenditionError(f"cannot fit {profile.name} in {profile.max_bytes} bytes")
        image = image.resize(
            (max(1, int(image.width * SHRINK_STEP)), max(1, int(image.height * SHRINK_STEP))),
            Image.Resampling.LANCZOS,
        )

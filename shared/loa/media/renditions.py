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
        # X API media upload: images up to 5 MB (JPG, PNG, GIF, WEBP); 4096 px is X's display cap.
        Profile("x_image", 4096, 4096, 5 * 1024 * 1024),
        # Zalo OA "upload image" API: JPG/PNG up to 1 MB; article covers are shown 16:9.
        Profile("zalo_cover", 1280, 720, 1024 * 1024),
        # Zalo article images (cover and body), 1 MB as above, at most 2048 px a side.
        Profile("zalo_image", 2048, 2048, 1024 * 1024),
        # Facebook link/photo previews: 1200x630 recommended, small files load faster.
        Profile("facebook_image", 2048, 2048, 4 * 1024 * 1024),
        # YouTube custom thumbnail: JPEG or PNG under 2 MB (so at most 2 MiB - 1 bytes), 1280x720
        # recommended (16:9). Source: https://developers.google.com/youtube/v3/docs/thumbnails/set
        # and the YouTube Help Center's custom thumbnail guidance.
        Profile("youtube_thumbnail", 1280, 720, 2 * 1024 * 1024 - 1),
        # Lists in the tracker and the website.
        Profile("thumbnail", 400, 400, 100 * 1024),
    )
}


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

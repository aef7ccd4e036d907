"""Responsive images on real MinIO (#24 item 3): an article's image is offered in ``srcset`` as
real narrower copies (480 and 960 px JPEGs) and the original, each a public file of the width it
declares; a retraction removes the copies with the original; an image narrower than every copy
has none."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from PIL import Image

from loa.media import MediaStore
from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.site.bucket import SiteBucket
from tests.channels.website.test_static_site import adapter, publish, site, text, website_settings
from tests.security.test_minio_users import service_store
from tests.website_support import FakeContext, png_bytes, static_account, store_image

__all__ = ["adapter", "service_store"]  # fixtures, shared with the static-site and MinIO-user tests


def srcset(page: str) -> list[tuple[str, int]]:
    found = re.search(r'<figure class="media">\s*<img src="[^"]+" srcset="([^"]+)"', page)
    assert found is not None, "no figure"
    return [(path, int(width.rstrip("w"))) for path, width in (c.split() for c in found.group(1).split(", "))]


def public_image(bucket: SiteBucket, path: str) -> Image.Image:
    raw = bucket.get(path.lstrip("/"))
    assert raw is not None, f"{path} is not public"
    return Image.open(io.BytesIO(raw))


async def test_the_srcset_offers_real_narrower_copies_and_a_retraction_removes_them(
    adapter: WebsiteAdapter,
) -> None:
    image = store_image(adapter.context.media, alt="Toàn cảnh cầu Đông Trù mở rộng, Hà Nội")
    result = await publish(adapter, "01JD5Z8Q4M9R3T7V2X6YSRC001", media=[image])
    bucket = site(adapter)
    offered = srcset(text(bucket, result.external_id.lstrip("/")))
    assert [w for _, w in offered] == [480, 960, 1200]
    assert offered[-1][0] == f"/media/{image.sha256}"
    for path, width in offered[:-1]:
        copy = public_image(bucket, path)
        assert copy.format == "JPEG" and copy.size == (width, round(width * 675 / 1200))

    await adapter.retract(result, static_account())
    for path, _ in offered:
        assert bucket.get(path.lstrip("/")) is None, path


async def test_an_image_narrower_than_every_copy_is_offered_alone(adapter: WebsiteAdapter) -> None:
    narrow = store_image(
        adapter.context.media, alt="Biểu trưng Bộ Thông tin và Truyền thông", data=png_bytes(400, 300)
    ).model_copy(update={"width": 400, "height": 300})
    result = await publish(adapter, "01JD5Z8Q4M9R3T7V2X6YSRC002", media=[narrow])
    assert srcset(text(site(adapter), result.external_id.lstrip("/"))) == [(f"/media/{narrow.sha256}", 400)]


async def test_the_website_makes_and_publishes_the_copies_as_its_own_minio_user(
    settings: LoaSettings, service_store: Callable[[str], MediaStore]
) -> None:
    """Least privilege (docs/security.md): the website writes only ``renditions/*`` in the media
    bucket, and copies server-side into its own bucket."""
    image = store_image(service_store("ingest"), alt="Toàn cảnh cầu Đông Trù mở rộng, Hà Nội")
    website = service_store("website")
    website.ensure_buckets(website.website_bucket)
    own = WebsiteAdapter(FakeContext(website), website_settings(settings))
    result = await publish(own, "01JD5Z8Q4M9R3T7V2X6YSRC003", media=[image])
    offered = srcset(text(site(own), result.external_id.lstrip("/")))
    assert [w for _, w in offered] == [480, 960, 1200]
    assert public_image(site(own), offered[0][0]).size == (480, 270)

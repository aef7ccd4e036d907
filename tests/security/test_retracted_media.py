"""A retracted article's media leave the public website bucket once no live article shows them.

Before, a retracted article's photos stayed public at ``/media/<sha256>`` for good: a photo taken
down with a wrong article was still one URL away.
"""

import pytest

from loa.media import MediaStore
from loa.media.store import public_media_key
from loa.settings import LoaSettings
from services.website.adapter import WebsiteAdapter
from services.website.settings import WebsiteSettings
from tests.website_support import FakeContext, article, make_media, png_bytes, static_account, store_image

pytestmark = pytest.mark.integration
Site = tuple[MediaStore, WebsiteAdapter]


@pytest.fixture
def site(settings: LoaSettings) -> Site:
    media = make_media(settings)
    return media, WebsiteAdapter(FakeContext(media), WebsiteSettings(**settings.model_dump()))


async def test_media_leave_with_the_last_article_that_shows_them(site: Site) -> None:
    media, adapter = site
    account = static_account()
    shared = store_image(media, "Toàn cảnh hội nghị tại Đà Nẵng")
    own = store_image(media, "Ảnh chỉ bài sai có", data=png_bytes(colour=(0, 90, 40)))
    wrong = article("01JD5Z8Q4M9R3T7V2X6YMED001", media=[shared, own])
    kept = article("01JD5Z8Q4M9R3T7V2X6YMED002", media=[shared], title="Đà Nẵng: kết quả hội nghị xúc tiến")
    published = {}
    for content in (wrong, kept):
        post = await adapter.render(content, content.targets[0], account)
        published[content.id] = await adapter.publish(post, account)
    bucket = adapter.static.bucket

    def public(sha256: str) -> bool:
        return bucket.get(public_media_key(sha256)) is not None

    assert public(shared.sha256) and public(own.sha256)

    await adapter.retract(published[wrong.id], account)
    assert not public(own.sha256), "the retracted article's own photo is still public"
    assert public(shared.sha256), "a photo a live article shows was removed"

    await adapter.retract(published[kept.id], account)
    assert not public(shared.sha256)


async def test_an_update_that_drops_a_photo_removes_it(site: Site) -> None:
    media, adapter = site
    account = static_account()
    dropped = store_image(media, "Ảnh đăng nhầm", data=png_bytes(colour=(20, 20, 160)))
    first = article("01JD5Z8Q4M9R3T7V2X6YMED003", media=[dropped])
    post = await adapter.render(first, first.targets[0], account)
    result = await adapter.publish(post, account)
    assert adapter.static.bucket.get(public_media_key(dropped.sha256)) is not None

    second = article("01JD5Z8Q4M9R3T7V2X6YMED003", version=2, media=[])
    post2 = await adapter.render(second, second.targets[0], account)
    await adapter.update(post2, result, account)
    assert adapter.static.bucket.get(public_media_key(dropped.sha256)) is None


async def test_a_photo_zalo_still_shows_stays_after_the_website_retracts(site: Site) -> None:
    media, adapter = site
    account = static_account()
    photo = store_image(media, "Ảnh dùng chung với Zalo OA", data=png_bytes(colour=(120, 60, 0)))
    content = article("01JD5Z8Q4M9R3T7V2X6YMED004", media=[photo])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)
    media.publish_public(photo, used_by="zalo:01JD5Z8Q4M9R3T7V2X6YMED004")  # as the Zalo adapter does

    await adapter.retract(result, account)
    assert adapter.static.bucket.get(public_media_key(photo.sha256)) is not None
    media.release_public([photo.sha256], used_by="zalo:01JD5Z8Q4M9R3T7V2X6YMED004")
    assert adapter.static.bucket.get(public_media_key(photo.sha256)) is None

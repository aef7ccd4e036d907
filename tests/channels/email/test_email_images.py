"""Images from the real MinIO go inline (``cid:``) while they fit the budget; the others stay on the
website and the mail says how many."""

from __future__ import annotations

import email
import io
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default

import pytest

from loa.events import MediaRef
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing import FakeContext
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from tests.channels.email.mail import DOMAIN, contacts, press_account, press_release
from tests.channels.email.smtp_server import smtp_server

pytestmark = pytest.mark.integration


@pytest.fixture
def media_store(settings: LoaSettings) -> Iterator[MediaStore]:
    store = MediaStore(settings)
    store.ensure_buckets()
    yield store
    for bucket in (store.bucket, store.website_bucket):
        for obj in store.client.list_objects(bucket, recursive=True):
            store.client.remove_object(bucket, obj.object_name or "")
        store.client.remove_bucket(bucket)


def stored(store: MediaStore, data: bytes, alt: str) -> MediaRef:
    put = store.put_stream(io.BytesIO(data), "image/jpeg", len(data))
    return MediaRef(key=put.key, sha256=put.sha256, content_type="image/jpeg", size=put.size, alt=alt)


async def test_images_inline_within_the_budget_and_the_rest_counted(media_store: MediaStore) -> None:
    small = stored(media_store, b"\xff\xd8\xff\xe0" + "Lễ ký kết tại Đà Nẵng".encode() * 200, "Lễ ký kết")
    large = stored(media_store, b"\xff\xd8\xff\xe1" + b"\x00" * 300_000, "Toàn cảnh hội nghị")
    settings = EmailSettings(
        mode="development",
        email_from=f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        email_inline_image_budget_bytes=100_000,
        email_messages_per_second=1000,
    )
    async with smtp_server() as server:
        settings = settings.model_copy(update={"email_smtp_port": server.port})
        adapter = EmailAdapter(FakeContext(media=media_store), settings)
        account = press_account(contacts(1, "images"))
        content = press_release("cttdt-2025-12-03-0001").model_copy(update={"media": [small, large]})
        post = await adapter.render(content, content.targets[0], account)
        await adapter.publish(post, account)
    [received] = server.received
    msg = email.message_from_bytes(received.data, policy=default)
    assert isinstance(msg, EmailMessage)
    plain, related = msg.iter_parts()
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert image.get_content_type() == "image/jpeg" and image.get_content() == media_store_bytes(
        media_store, small
    )
    cid = str(image["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html.get_content() and 'alt="Lễ ký kết"' in html.get_content()
    assert "1 ảnh khác: xem trên trang thông tin điện tử." in plain.get_content()


def media_store_bytes(store: MediaStore, ref: MediaRef) -> bytes:
    return b"".join(store.iter_bytes(ref.key))

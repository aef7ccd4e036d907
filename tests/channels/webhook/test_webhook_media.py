"""The webhook document links each media with a presigned URL from the real MinIO."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest

from loa.events import MediaRef
from loa.media import MediaStore
from loa.settings import LoaSettings
from loa.testing import FakeContext
from services.sandbox.client import SandboxClient
from services.webhook.adapter import WebhookAdapter
from tests.channels.webhook import test_webhook  # a module import: its test class is not collected twice

pytestmark = pytest.mark.integration

ENDPOINT, SECRET = test_webhook.ENDPOINT, test_webhook.SECRET


@pytest.fixture
def media_store(settings: LoaSettings) -> Iterator[MediaStore]:
    store = MediaStore(settings)
    store.ensure_buckets()
    yield store
    for bucket in (store.bucket, store.website_bucket):
        for obj in store.client.list_objects(bucket, recursive=True):
            store.client.remove_object(bucket, obj.object_name or "")
        store.client.remove_bucket(bucket)


async def test_media_travel_as_presigned_urls(
    media_store: MediaStore, sandbox: SandboxClient, sandbox_url: str
) -> None:
    photo = b"\xff\xd8\xff\xe0" + "Ảnh: Lễ khai mạc tại Đà Nẵng".encode() * 100
    stored = media_store.put_stream(io.BytesIO(photo), "image/jpeg", len(photo))
    ref = MediaRef(
        key=stored.key, sha256=stored.sha256, content_type="image/jpeg", size=stored.size, alt="Lễ khai mạc"
    )
    sandbox.webhook_endpoint(ENDPOINT, SECRET)
    contract = test_webhook.TestWebhookAdapter()
    contract.url = f"{sandbox_url}/webhook/{ENDPOINT}"
    account = contract.make_account()
    content = contract.sample_content().model_copy(update={"media": [ref]})
    adapter = WebhookAdapter(FakeContext(media=media_store))
    try:
        post = await adapter.render(content, content.targets[0], account)
        assert (
            "url" not in post.payload["document"]["media"][0]
        )  # presigned at publish, not stored in the job
        await adapter.publish(post, account)
    finally:
        await adapter.aclose()
    [delivery] = sandbox.webhook_live(ENDPOINT)
    [media] = delivery["payload"]["media"]
    assert (media["sha256"], media["alt"]) == (stored.sha256, "Lễ khai mạc")
    async with httpx.AsyncClient() as http:
        fetched = await http.get(media["url"])
    assert fetched.status_code == 200
    assert fetched.content == photo

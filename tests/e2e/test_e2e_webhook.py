"""Webhook, end to end: Kafka → the webhook publisher → the sandbox's signed receiver, edit and retract."""

from __future__ import annotations

import httpx
import pytest

from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from tests.e2e.support import PUBLISHED_PATH, SUMMARY, TITLE, S, WebhookRun, article, jpeg, put_media

pytestmark = pytest.mark.e2e


async def test_sample_article_is_delivered_edited_and_retracted(
    settings: LoaSettings, sandbox: SandboxClient, media: MediaStore, webhook_run: WebhookRun
) -> None:
    run, endpoint = webhook_run
    image = jpeg()
    c = article("webhook", "cong-noi-bo", [put_media(media, image, "image/jpeg", alt="Trụ sở trung tâm")])
    await run.approve(c)

    last = await run.until_state(c.id, "cong-noi-bo", S.PUBLISHED)
    assert run.states(c.id, "cong-noi-bo") == PUBLISHED_PATH
    live = sandbox.webhook_live(endpoint)
    assert len(live) == 1
    doc = live[0]["payload"]
    assert doc["title"] == TITLE
    assert doc["summary"] == SUMMARY
    assert doc["tags"] == c.tags
    assert doc["url"] == canonical_url(c, str(settings.website_base_url))
    assert doc["media"][0]["sha256"] == c.media[0].sha256
    # The presigned URL really serves the image from MinIO.
    assert httpx.get(doc["media"][0]["url"]).content == image
    assert last.external_id == live[0]["id"]
    assert sandbox.webhook_accepted() == {live[0]["idempotency_key"]: 1}

    edited = article(
        "webhook",
        "cong-noi-bo",
        c.media,
        cid=c.id,
        version=2,
        summary="Đính chính: trụ sở ở số 258 Võ Chí Công.",
    )
    await run.update(edited)
    await run.until_version(c.id, "cong-noi-bo", 2, S.PUBLISHED)
    live = sandbox.webhook_live(endpoint)
    assert len(live) == 1
    assert live[0]["payload"]["summary"] == "Đính chính: trụ sở ở số 258 Võ Chí Công."

    await run.retract(c.id)
    await run.until_state(c.id, "cong-noi-bo", S.RETRACTED)
    assert sandbox.webhook_live(endpoint) == []
    assert run.states(c.id, "cong-noi-bo")[-2:] == [S.RETRACTING, S.RETRACTED]

"""Webhook, end to end: Kafka → the webhook publisher → the sandbox's signed receiver, edit and retract."""

from __future__ import annotations

import uuid

import httpx
import pytest

from loa.links import canonical_url
from loa.media import MediaStore
from loa.settings import LoaSettings
from services.sandbox.client import SandboxClient
from services.webhook.adapter import WebhookAdapter
from services.webhook.settings import WebhookSettings
from tests.e2e.conftest import StartRun
from tests.e2e.support import (
    PUBLISHED_PATH,
    SUMMARY,
    TITLE,
    ChannelRun,
    S,
    approved,
    article,
    fast_settings,
    jpeg,
    put_media,
    retracted,
    updated,
)

pytestmark = pytest.mark.e2e


async def test_sample_article_is_delivered_edited_and_retracted(
    settings: LoaSettings,
    tmp_path,
    sandbox: SandboxClient,
    sandbox_url: str,
    media: MediaStore,
    start_run: StartRun,
) -> None:
    endpoint, secret = f"cong-noi-bo-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    sandbox.webhook_endpoint(endpoint, secret)
    run = await start_run(
        ChannelRun(
            WebhookAdapter,
            fast_settings(settings, WebhookSettings, tmp_path),
            {"cong-noi-bo": ({"secret": secret}, {"url": f"{sandbox_url}/webhook/{endpoint}"})},
        )
    )
    image = jpeg()
    c = article("webhook", "cong-noi-bo", [put_media(media, image, "image/jpeg", alt="Trụ sở trung tâm")])
    await run.send(approved(c))

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
    await run.send(updated(edited))
    await run.until_version(c.id, "cong-noi-bo", 2, S.PUBLISHED)
    live = sandbox.webhook_live(endpoint)
    assert len(live) == 1
    assert live[0]["payload"]["summary"] == "Đính chính: trụ sở ở số 258 Võ Chí Công."

    await run.send(retracted(c.id))
    await run.until_state(c.id, "cong-noi-bo", S.RETRACTED)
    assert sandbox.webhook_live(endpoint) == []
    assert run.states(c.id, "cong-noi-bo")[-2:] == [S.RETRACTING, S.RETRACTED]

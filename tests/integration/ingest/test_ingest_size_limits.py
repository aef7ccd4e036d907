"""A body Kafka cannot carry is a permanent 413 naming the limit, never a 503 a client retries;
an event the broker still refuses never holds back the ingest's outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from loa.events import topics
from loa.kafka import max_event_bytes
from services.ingest.app import create_app
from services.ingest.db import OutboxRow
from services.ingest.settings import IngestSettings
from tests.conftest import Stack
from tests.integration.ingest.conftest import LiveIngest, ingest_settings
from tests.support.kafka import BROKER_MESSAGE_MAX_BYTES, read_topic
from tests.support.live import serve
from tests.support.payloads import PARAGRAPH, submitted_payload

pytestmark = pytest.mark.integration


def _live(stack: Stack, tmp: Path, **overrides: object) -> Iterator[LiveIngest]:
    settings, tokens = ingest_settings(stack, tmp)
    settings = IngestSettings.model_validate({**settings.model_dump(), **overrides})
    with serve(create_app(settings)) as url:
        yield LiveIngest(url, settings, tokens["admin"], tokens["publisher"], tokens["uploader"])


@pytest.fixture
def live(stack: Stack, tmp_path: Path) -> Iterator[LiveIngest]:
    yield from _live(stack, tmp_path)


def body_of(size: int, content_id: str) -> dict[str, object]:
    """A valid Vietnamese content whose body paragraph makes the request about ``size`` bytes."""
    payload = submitted_payload(content_id)
    repeats = size // len(PARAGRAPH.encode())
    payload["body"] = "<p>" + PARAGRAPH * repeats + "</p>"
    return {"payload": payload}


def submit(live: LiveIngest, body: dict[str, object]) -> httpx.Response:
    with httpx.Client(base_url=live.url, timeout=60, headers=live.auth(live.publisher)) as client:
        return client.post("/api/v1/contents", json=body)


async def test_a_body_above_what_kafka_accepts_is_413_naming_the_limit(live: LiveIngest) -> None:
    response = submit(live, body_of(1_500_000, "qua-lon-1"))
    assert response.status_code == 413, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    limit = live.settings.max_content_body_bytes
    assert f"above {limit} bytes" in error["message"]
    assert "LOA_KAFKA_MAX_MESSAGE_BYTES" in error["message"]
    assert limit < max_event_bytes(live.settings) <= BROKER_MESSAGE_MAX_BYTES
    fitting = submit(live, body_of(limit - 20_000, "vua-du-1"))  # just under the cap goes through
    assert fitting.status_code == 202, fitting.text[:300]
    records = await read_topic(live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 1, 5)
    assert [r.key for r in records] == [b"vua-du-1"]  # nothing of the refused one


def test_a_body_that_grows_past_the_limit_once_built_is_413(live: LiveIngest) -> None:
    """Sanitising adds ``rel="noopener noreferrer"`` to every link: the event outgrows the body."""
    link = '<a href="https://bo.gov.vn">Xem</a> '
    on_the_wire = len(json.dumps(link)) - 2  # quotes escaped, without the string's own quotes
    body = body_of(0, "nhieu-lien-ket")
    payload = body["payload"]
    assert isinstance(payload, dict)
    payload["body"] = "<p>" + link * ((live.settings.max_content_body_bytes - 4000) // on_the_wire) + "</p>"
    response = submit(live, body)
    assert response.status_code == 413, response.text[:300]
    assert "the event built from this body" in response.json()["error"]["message"]


async def test_a_broker_refusing_an_event_as_too_large_does_not_hold_back_the_outbox(
    stack: Stack, tmp_path: Path
) -> None:
    """A producer configured above the broker's ``message.max.bytes`` (a misconfiguration): the
    request was accepted into the outbox (202), the broker's refusal is permanent — the row is marked
    refused with the reason instead of being retried forever — and the rows after it still go out."""
    for live in _live(stack, tmp_path, kafka_max_message_bytes=2 * BROKER_MESSAGE_MAX_BYTES):
        assert submit(live, body_of(1_500_000, "broker-tu-choi")).status_code == 202
        assert submit(live, body_of(20_000, "sau-do-van-di")).status_code == 202
        topic = live.settings.topic(topics.CONTENT)
        records = await read_topic(live.settings.kafka_bootstrap, topic, 1, 20)
        assert [r.key for r in records] == [b"sau-do-van-di"]
        engine = create_async_engine(live.settings.database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(OutboxRow.key, OutboxRow.refused).order_by(OutboxRow.id))).all()
        await engine.dispose()
        assert rows[0].key == "broker-tu-choi"
        assert rows[0].refused is not None and "too large" in rows[0].refused
        assert rows[1].refused is None

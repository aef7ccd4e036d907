"""Kafka down: the ingest accepts durably (outbox) and answers fast; the events reach Kafka once when
it is back; a retried request is not done twice; readiness names Kafka, liveness stays 200."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from loa.events import ContentApproved, ContentRetracted, parse_content_event, topics
from loa.testing.private_stack import PrivateStack
from services.ingest.app import create_app
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.support.kafka import read_topic
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

ANSWER_WITHIN_S = 5.0


async def test_kafka_down_accepts_fast_and_publishes_once_when_back(stack: Stack, tmp_path: Path) -> None:
    with PrivateStack.started(tmp_path, "kafka") as ps:
        base, tokens = ingest_settings(stack, tmp_path)
        settings = base.model_copy(update={"kafka_bootstrap": ps.kafka_bootstrap})
        topic = settings.topic(topics.CONTENT)
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        with serve(create_app(settings)) as url:
            ps.stop("kafka")
            async with httpx.AsyncClient(base_url=url, timeout=60, headers=admin) as client:
                submit = {"payload": submitted_payload("kafka-vang-1", 1)}
                key = {"Idempotency-Key": "cms-dot-1"}
                started = time.monotonic()
                first = await client.post("/api/v1/contents", json=submit, headers=key)
                took = time.monotonic() - started
                assert first.status_code == 202, first.text
                assert took < ANSWER_WITHIN_S, f"answered after {took:.1f} s"
                assert first.json()["status"] == "queued"

                retried = await client.post("/api/v1/contents", json=submit, headers=key)
                assert retried.status_code == 202
                assert retried.headers["Idempotent-Replay"] == "true"
                assert retried.json() == first.json()

                started = time.monotonic()
                retract = await client.post(
                    "/api/v1/contents/kafka-vang-1/retract",
                    json={"reason": "Đính chính số liệu"},
                    headers={"Idempotency-Key": "cms-go-1"},
                )
                assert retract.status_code == 202, retract.text
                assert time.monotonic() - started < ANSWER_WITHIN_S

                ready = await client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["dependencies"]["kafka"]["ok"] is False
                assert ready.json()["dependencies"]["database"]["ok"] is True
                assert (await client.get("/livez")).status_code == 200

                ps.start("kafka")
                records = await read_topic(ps.kafka_bootstrap, topic, expect=2, wait_s=60)
                events = [parse_content_event(r.value) for r in records]
                assert [type(e) for e in events] == [ContentApproved, ContentRetracted]
                assert {r.key for r in records} == {b"kafka-vang-1"}
                approved = events[0]
                assert isinstance(approved, ContentApproved)
                assert approved.payload.title == submitted_payload()["title"]
                assert (await client.get("/readyz")).status_code == 200

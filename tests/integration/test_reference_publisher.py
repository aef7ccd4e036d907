"""The bench's reference publisher (issue #20 item 1) delivers exactly once across a SIGKILL.

The hard case: the request left and the receiver took it, but the process dies before it records
the answer. The sandbox's ``after`` fault lets the receiver accept the POST and then holds its
answer; the test SIGKILLs the reference publisher while it waits. Restarted, it finds the row still
in flight, asks the receiver for its idempotency key (``GET {url}/deliveries?idempotency_key=``),
finds the delivery and records it: one POST on the receiver, one row published with the receiver's
id, one status event, as the issue asks ("durably record the delivery as in flight ..., durably
record the answer, produce one status event"). With each HTTP client (``--client``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import NewTopic

from bench.reference.publisher import STATUS_TOPIC
from bench.reference.request import CLIENTS
from loa.events import Content, ContentApproved, Target, parse_delivery_status, topics, utcnow
from loa.kafka_security import client_security
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT, LoaSettings
from services.sandbox.client import SandboxClient
from tests.sandbox_fixtures import sandbox, sandbox_server, sandbox_url  # noqa: F401

pytestmark = pytest.mark.integration

ACCOUNT = "cong-thong-tin-dien-tu"
TITLE = unicodedata.normalize("NFC", "Đà Nẵng điều chỉnh giờ làm việc của bộ phận một cửa từ ngày 01/12")


@pytest.fixture(params=CLIENTS)
def reference(
    request: pytest.FixtureRequest,
    settings: LoaSettings,
    sandbox: SandboxClient,  # noqa: F811
    tmp_path: Path,
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """A starter of the reference publisher on this test's topics and its own endpoint."""
    sandbox.webhook_endpoint(f"ref-{ACCOUNT}", "bí-mật-của-bên-nhận")
    accounts = tmp_path / "accounts.json"
    url = f"{sandbox.base_url}/webhook/ref-{ACCOUNT}"
    entry = {"url": url, "secret": "bí-mật-của-bên-nhận"}
    accounts.write_text(json.dumps({ACCOUNT: entry}), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "LOA_TOPIC_PREFIX": settings.topic_prefix,
        "LOA_S3_ENDPOINT": settings.s3_endpoint,
        "LOA_S3_MEDIA_BUCKET": settings.s3_media_bucket,
    }
    argv = [sys.executable, "-m", "bench.reference", "--accounts", str(accounts)]
    argv += ["--database", str(tmp_path / "reference.db"), "--group", f"{settings.topic_prefix}reference"]
    argv += ["--client", request.param]
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen(argv, cwd=REPO_ROOT, env=env))
        return started[-1]

    yield start
    for proc in started:
        proc.kill()
        proc.wait(10)


def wait_for(what: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := what():
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what.__doc__}")


def row(db: Path) -> tuple[str, int, str | None, int] | None:
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        try:
            columns = "state, requests, external_id, status_sent"
            found = conn.execute(f"SELECT {columns} FROM deliveries").fetchall()
        except sqlite3.OperationalError:
            return None
    assert len(found) <= 1, found
    return found[0] if found else None


async def produce(settings: LoaSettings) -> Content:
    content = Content(
        id="thong-bao-gio-lam-viec-mot-cua",
        version=1,
        title=TITLE,
        summary="Từ ngày 01/12, bộ phận một cửa làm việc cả sáng thứ Bảy để phục vụ người dân.",
        body="<p>Đường dây nóng: 0236 1022.</p>",
        unit="Văn phòng UBND thành phố",
        approved_by="Trần Văn Đức",
        approved_at=utcnow(),
        targets=[Target(channel="webhook", account=ACCOUNT)],
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
    await producer.start()
    try:
        event = ContentApproved(payload=content).model_dump_json().encode()
        await producer.send_and_wait(settings.topic(topics.CONTENT), event, key=content.id.encode())
    finally:
        await producer.stop()
    return content


async def statuses(settings: LoaSettings) -> list[Any]:
    consumer = AIOKafkaConsumer(
        settings.topic(STATUS_TOPIC),
        bootstrap_servers=settings.kafka_bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found = await consumer.getmany(timeout_ms=3000)
        return [parse_delivery_status(r.value) for rs in found.values() for r in rs]
    finally:
        await consumer.stop()


async def test_sigkill_after_the_receiver_took_the_post_delivers_once(
    settings: LoaSettings,
    sandbox: SandboxClient,  # noqa: F811
    kafka_admin: Any,
    reference: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    await kafka_admin.create_topics(
        [NewTopic(settings.topic(t), 1, 1) for t in (topics.CONTENT, STATUS_TOPIC)]
    )
    # The receiver accepts the POST, then holds its answer for 60 s: the request left, no answer came.
    sandbox.fault("webhook", status=0, latency_ms=60_000, after=True, count=1)
    content = await produce(settings)
    db = tmp_path / "reference.db"
    first = reference()

    def taken() -> dict[str, int]:
        """the receiver took the POST"""
        return sandbox.webhook_accepted()

    keys = await asyncio.to_thread(wait_for, taken)
    (key,) = keys
    assert row(db) == ("in_flight", 0, None, 0)  # recorded before the request, no answer yet
    first.kill()
    first.wait(10)
    assert row(db) == ("in_flight", 0, None, 0)

    reference()

    def published() -> tuple[str, int, str | None, int] | None:
        """the restarted reference publisher recorded the answer and sent its status"""
        found = row(db)
        return found if found and found[0] == "published" and found[3] == 1 else None

    _, requests, external_id, _ = await asyncio.to_thread(wait_for, published)
    live = sandbox.webhook_live(f"ref-{ACCOUNT}")
    assert sandbox.webhook_accepted() == {key: 1}  # one POST in all: the restart asked, never sent again
    assert [d["id"] for d in live] == [external_id]
    assert requests == 1  # the GET by key after the restart (the first POST was never answered)
    assert live[0]["payload"]["title"] == TITLE
    assert live[0]["payload"]["idempotency_key"] == key
    events = await statuses(settings)
    assert [(e.payload.content_id, e.payload.state, e.payload.external_id) for e in events] == [
        (content.id, "published", external_id)
    ]

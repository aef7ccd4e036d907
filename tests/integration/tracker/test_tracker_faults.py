"""PostgreSQL or Kafka down: the tracker answers JSON 503s with Retry-After, readiness names the
dependency, liveness stays 200, and the dashboard shows each dependency's and publisher's state."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from loa.settings import LoaSettings
from loa.testing.ports import free_port
from loa.testing.private_stack import PrivateStack
from tests.integration.tracker.support import auth, running_tracker, tracker_settings

pytestmark = pytest.mark.integration

ANSWER_WITHIN_S = 5.0


def row(html: str, attribute: str, name: str) -> str:
    found = re.search(rf'<li {attribute}="{name}" class="(\w+)">(.*?)</li>', html, re.S)
    assert found, f"no {attribute}={name} on the dashboard"
    return f"{found.group(1)}: {found.group(2)}"


async def test_database_then_kafka_down(settings: LoaSettings, tmp_path: Path) -> None:
    with PrivateStack.started(tmp_path, "kafka", "postgres") as ps:
        nobody = f"http://127.0.0.1:{free_port()}/readyz"  # a publisher that is not running
        ts = tracker_settings(
            ps.settings(settings),
            ps.pg_url(),
            tracker_publisher_health={"facebook": nobody},
        )
        async with running_tracker(ts) as (_, client):
            page = (await client.get("/", headers=auth("viewer"))).text
            assert row(page, "data-dependency", "database").startswith("ok: ✓ Cơ sở dữ liệu: Sẵn sàng")
            assert row(page, "data-dependency", "kafka").startswith("ok:")
            assert row(page, "data-publisher", "facebook").startswith("bad:")
            assert "connection refused" in row(page, "data-publisher", "facebook")

            ps.stop("postgres")
            started = time.monotonic()
            listed = await client.get("/api/v1/contents", headers=auth("viewer"))
            assert time.monotonic() - started < ANSWER_WITHIN_S
            assert listed.status_code == 503, listed.text
            assert listed.json()["error"]["code"] == "database_unavailable"
            assert int(listed.headers["Retry-After"]) > 0
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["dependencies"]["database"]["ok"] is False
            assert ready.json()["dependencies"]["kafka"]["ok"] is True
            assert (await client.get("/healthz")).status_code == 503
            assert (await client.get("/livez")).status_code == 200
            browser = {**auth("viewer"), "Accept": "text/html"}
            page_down = await client.get("/", headers=browser)
            assert page_down.status_code == 503
            assert "Bảng theo dõi tạm thời gián đoạn" in page_down.text
            assert row(page_down.text, "data-dependency", "database").startswith("bad: ✗ Cơ sở dữ liệu")
            ps.start("postgres")
            assert (await client.get("/readyz")).status_code == 200

            ps.stop("kafka")
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["dependencies"]["kafka"] == {"ok": False, "cause": "no broker reachable"}
            page = (await client.get("/", headers=auth("viewer"))).text
            assert row(page, "data-dependency", "kafka").startswith("bad: ✗ Kafka")
            ps.start("kafka")

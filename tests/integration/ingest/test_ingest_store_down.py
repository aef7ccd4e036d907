"""MinIO or PostgreSQL down: the ingest answers a JSON 503 with Retry-After within seconds,
readiness names the dependency, liveness stays 200."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa.testing.private_stack import PrivateStack
from services.ingest.app import create_app
from tests.conftest import Stack
from tests.integration.ingest.conftest import ingest_settings
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

ANSWER_WITHIN_S = 5.0
SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "anh-bia.jpg"


def assert_outage(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == code
    assert "\n" not in error["message"]
    assert "Error(" not in error["message"]  # no exception repr reaches the client


async def timed_post(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    started = time.monotonic()
    response = await client.post(path, **kwargs)
    took = time.monotonic() - started
    assert took < ANSWER_WITHIN_S, f"{path} answered after {took:.1f} s"
    return response


async def readiness(client: httpx.AsyncClient) -> dict[str, Any]:
    assert (await client.get("/livez")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    alias = await client.get("/healthz")
    assert alias.status_code == 503
    body: dict[str, Any] = ready.json()
    return body["dependencies"]


async def test_object_store_then_database_down(stack: Stack, tmp_path: Path) -> None:
    with PrivateStack.started(tmp_path, "minio", "postgres") as ps:
        base, tokens = ingest_settings(stack, tmp_path)
        settings = base.model_copy(update={"s3_endpoint": ps.s3_endpoint, "database_url": ps.pg_url()})
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        image = SAMPLE.read_bytes()
        with serve(create_app(settings)) as url:
            async with httpx.AsyncClient(base_url=url, timeout=60, headers=admin) as client:
                stored = await client.post(
                    "/api/v1/media", content=image, headers={"Content-Type": "image/jpeg"}
                )
                assert stored.status_code == 201, stored.text
                payload = submitted_payload("kho-anh-vang-1", 1)
                payload["media"] = [
                    {
                        **{k: stored.json()[k] for k in ("key", "sha256", "size", "content_type")},
                        "alt": "Ảnh bìa",
                    }
                ]

                ps.stop("minio")
                upload = await timed_post(
                    client, "/api/v1/media", content=image, headers={"Content-Type": "image/jpeg"}
                )
                assert_outage(upload, "object_store_unavailable")
                submit = await timed_post(client, "/api/v1/contents", json={"payload": payload})
                assert_outage(submit, "object_store_unavailable")
                dependencies = await readiness(client)
                assert dependencies["object_store"]["ok"] is False
                assert dependencies["object_store"]["cause"]
                assert dependencies["database"]["ok"] is True
                ps.start("minio")

                ps.stop("postgres")
                submit = await timed_post(client, "/api/v1/contents", json={"payload": payload})
                assert_outage(submit, "database_unavailable")
                retract = await timed_post(
                    client, "/api/v1/contents/kho-anh-vang-1/retract", json={"reason": "Thử lại sau"}
                )
                assert_outage(retract, "database_unavailable")
                dependencies = await readiness(client)
                assert dependencies["database"]["ok"] is False
                assert dependencies["object_store"]["ok"] is True
                ps.start("postgres")

                accepted = await client.post("/api/v1/contents", json={"payload": payload})
                assert accepted.status_code == 202, accepted.text

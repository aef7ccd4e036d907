"""The object store down: the website serves a clear Vietnamese 503 page at once, readiness names
the object store, liveness stays 200."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from loa.settings import LoaSettings
from loa.testing.private_stack import PrivateStack
from services.website.server import app_from_settings
from services.website.settings import WebsiteSettings
from tests.support.live import serve

pytestmark = pytest.mark.integration

ANSWER_WITHIN_S = 5.0


async def test_store_down_serves_a_vietnamese_503(settings: LoaSettings, tmp_path: Path) -> None:
    with PrivateStack.started(tmp_path, "minio") as ps:
        website = WebsiteSettings(**ps.settings(settings).model_dump())
        with serve(app_from_settings(website)) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                assert (await client.get("/_readyz")).status_code == 200
                assert (await client.get("/bai-viet/chua-co/")).status_code == 404

                ps.stop("minio")
                started = time.monotonic()
                page = await client.get("/tin-tuc/dang-ky-ho-kinh-doanh/")
                assert time.monotonic() - started < ANSWER_WITHIN_S
                assert page.status_code == 503
                assert page.headers["content-type"] == "text/html; charset=utf-8"
                assert int(page.headers["Retry-After"]) > 0
                assert "Trang tạm thời gián đoạn" in page.text
                assert "Traceback" not in page.text and "MaxRetryError" not in page.text

                ready = await client.get("/_readyz")
                assert ready.status_code == 503
                assert ready.json()["dependencies"]["object_store"]["ok"] is False
                assert (await client.get("/_healthz")).status_code == 503
                assert (await client.get("/_livez")).status_code == 200

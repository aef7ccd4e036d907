"""Every answer of the tracker and the ingest carries the security headers; docs need no CDN."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from loa.settings import LoaSettings
from loa.web_security import DOCS_POLICY, SECURITY_HEADERS
from tests.integration.ingest.conftest import LiveIngest, live_ingest  # noqa: F401 (the fixture)
from tests.integration.tracker.support import auth, running_tracker, tracker_settings

pytestmark = pytest.mark.integration
EXPECTED = {
    "content-security-policy": (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _security_headers(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers.get(name, "") for name in EXPECTED}


async def test_every_kind_of_answer_carries_the_headers(settings: LoaSettings, sqlite_url: str) -> None:
    assert {n.lower(): v for n, v in SECURITY_HEADERS} == EXPECTED
    async with running_tracker(tracker_settings(settings, sqlite_url, tracker_consume=False)) as (_, client):
        answers = [
            await client.get("/login"),  # a page
            await client.get("/"),  # a redirect to sign in
            await client.get("/api/v1/contents"),  # a JSON 401
            await client.get("/api/v1/contents", headers=auth("viewer")),
            await client.get("/api/v1/nothing-here"),
            await client.get("/static/tracker.js"),
            await client.get("/openapi.json"),
            await client.get("/livez"),
            await client.post("/login", data={"token": "wrong-token-0123456789abcdef-0123456789"}),
        ]
        assert [a.status_code for a in answers] == [200, 303, 401, 200, 404, 200, 200, 200, 401]
        for answer in answers:
            assert _security_headers(answer) == EXPECTED, answer.url


async def test_a_live_stream_streams_with_the_headers(settings: LoaSettings, sqlite_url: str) -> None:
    async with (
        running_tracker(tracker_settings(settings, sqlite_url, tracker_consume=False)) as (_, client),
        client.stream("GET", "/api/v1/events", headers=auth("viewer")) as stream,
    ):
        assert _security_headers(stream) == EXPECTED
        assert stream.headers["content-type"].startswith("text/event-stream")

        async def first_event() -> str:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    return line
            return ""

        # the stream never ends: a middleware that buffered the body would never hand this over
        assert await asyncio.wait_for(first_event(), 10) == "event: hello"


async def test_the_api_docs_come_from_the_tracker_itself(settings: LoaSettings, sqlite_url: str) -> None:
    async with running_tracker(tracker_settings(settings, sqlite_url, tracker_consume=False)) as (_, client):
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert docs.headers["content-security-policy"] == DOCS_POLICY
        assert "<script>" not in docs.text  # the policy allows no inline script
        urls = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        assert len(urls) == 3
        for url in urls:
            assert url.startswith("/docs/"), url  # nothing from another origin
            served = await client.get(url)
            assert served.status_code == 200, url
            assert served.headers["content-type"].split(";")[0] in ("text/css", "text/javascript"), url
        assert "/openapi.json" in docs.text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Loa tracker"
        assert (await client.get("/redoc")).status_code == 404  # ReDoc came from a CDN: gone


async def test_the_ingest_answers_carry_the_same_headers(live_ingest: LiveIngest) -> None:  # noqa: F811
    async with httpx.AsyncClient(base_url=live_ingest.url, timeout=30) as client:
        answers = [
            await client.get("/livez"),
            await client.get("/openapi.json"),
            await client.post("/api/v1/contents", json={}),  # a JSON 401
            await client.post("/api/v1/contents", json={}, headers=live_ingest.auth(live_ingest.publisher)),
        ]
        docs = await client.get("/docs")
    assert [a.status_code for a in answers] == [200, 200, 401, 422]
    for answer in answers:
        assert _security_headers(answer) == EXPECTED, answer.url
    assert docs.status_code == 200
    assert not re.search(r"""(src|href)=["']?https?://""", docs.text), "the docs page loads from elsewhere"

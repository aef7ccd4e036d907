"""The sample article goes in through the API; the event on loa.content.v1 is NFC, sanitised,
and its media bytes match their sha256."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import httpx
import pytest

from loa.cli.article import load_article
from loa.events import ContentApproved, ContentRetracted, ContentUpdated, parse_content_event, topics
from loa.media import MediaStore
from services.ingest.app import create_app
from tests.conftest import Stack
from tests.integration.ingest.conftest import LiveIngest, ingest_settings
from tests.support.kafka import read_topic
from tests.support.live import serve
from tests.support.payloads import submitted_payload

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


async def upload(
    client: httpx.AsyncClient, live: LiveIngest, path: Path, content_type: str
) -> dict[str, object]:
    response = await client.post(
        "/api/v1/media",
        content=path.read_bytes(),  # noqa: ASYNC240  (a 50 KB sample)
        headers={**live.auth(live.uploader), "Content-Type": content_type},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def is_nfc(value: object) -> bool:
    if isinstance(value, str):
        return unicodedata.is_normalized("NFC", value)
    if isinstance(value, dict):
        return all(is_nfc(v) for v in value.values())
    if isinstance(value, list):
        return all(is_nfc(v) for v in value)
    return True


async def test_sample_article_through_the_api(live_ingest: LiveIngest) -> None:
    live = live_ingest
    article = load_article(SAMPLES / "thong-cao-bao-chi.md")
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        image = await upload(client, live, SAMPLES / "anh-bia.jpg", "image/jpeg")
        video = await upload(client, live, SAMPLES / "video-ngan.mp4", "video/mp4")
        assert (image["width"], image["height"]) == (1600, 900)
        assert video["duration_s"] == pytest.approx(3.0, abs=0.1)
        payload = dict(article.payload)
        # NFD on the way in (as some editors save it): accepted and normalised
        payload["title"] = unicodedata.normalize("NFD", payload["title"])
        payload["media"] = [
            {**{k: v for k, v in image.items() if v is not None}, "alt": "Ảnh bìa"},
            {**{k: v for k, v in video.items() if v is not None}, "alt": "Video"},
        ]
        payload["body"] += "<p><em>Đã duyệt</em><span>giữ chữ</span></p>"
        response = await client.post(
            "/api/v1/contents", json={"payload": payload}, headers=live.auth(live.publisher)
        )
        assert response.status_code == 202, response.text
        answer = response.json()
    assert answer["id"] == "tcbc-2026-chuyen-doi-so"
    assert answer["version"] == 1
    assert answer["status_url"].endswith("/api/v1/contents/tcbc-2026-chuyen-doi-so")
    assert answer["canonical_url"].startswith(str(live.settings.website_base_url).rstrip("/") + "/")

    records = await read_topic(live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 1)
    assert len(records) == 1
    assert records[0].key == b"tcbc-2026-chuyen-doi-so"
    event = parse_content_event(records[0].value)
    assert isinstance(event, ContentApproved)
    raw = json.loads(records[0].value)
    assert is_nfc(raw)
    assert raw["payload"]["title"] == unicodedata.normalize("NFC", article.payload["title"])
    assert "<span>" not in event.payload.body  # the allow-list applied
    assert "giữ chữ" in event.payload.body
    assert 'rel="noopener noreferrer"' in event.payload.body
    assert str(event.payload.canonical_url) == answer["canonical_url"]
    store = MediaStore(live.settings)
    for ref in event.payload.media:
        digest = hashlib.sha256()
        for chunk in store.iter_bytes(ref.key):
            digest.update(chunk)
        assert digest.hexdigest() == ref.sha256
    assert event.payload.media[0].width == 1600


async def test_update_keeps_the_url_and_retract_follows(live_ingest: LiveIngest) -> None:
    live = live_ingest
    async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=live.auth(live.admin)) as client:
        first = await client.post("/api/v1/contents", json={"payload": submitted_payload("upd-1", 1)})
        assert first.status_code == 202, first.text
        changed = submitted_payload("upd-1", 2)
        changed["title"] = "Tiêu đề đã sửa: Đính chính số liệu"
        second = await client.post("/api/v1/contents", json={"payload": changed})
        assert second.status_code == 202, second.text
        assert second.json()["type"] == "content.updated"
        assert second.json()["canonical_url"] == first.json()["canonical_url"]
        stale = await client.post("/api/v1/contents", json={"payload": submitted_payload("upd-1", 2)})
        assert stale.status_code == 409
        assert stale.json()["error"]["code"] == "version_conflict"
        gone = await client.post(
            "/api/v1/contents/upd-1/retract", json={"reason": "Sai số liệu, gỡ để đính chính"}
        )
        assert gone.status_code == 202, gone.text
        again = await client.post("/api/v1/contents/upd-1/retract", json={"reason": "lần nữa"})
        assert again.status_code == 409
    records = await read_topic(live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 3)
    events = [parse_content_event(r.value) for r in records]
    assert [type(e) for e in events] == [ContentApproved, ContentUpdated, ContentRetracted]
    assert isinstance(events[1], ContentUpdated)
    assert events[1].payload.canonical_url == events[0].payload.canonical_url  # type: ignore[union-attr]
    assert isinstance(events[2], ContentRetracted)
    assert events[2].payload.requested_by == "admin"


async def test_idempotency_key_replays_the_first_answer(live_ingest: LiveIngest) -> None:
    live = live_ingest
    headers = {**live.auth(live.publisher), "Idempotency-Key": "cms-req-42"}
    async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=headers) as client:
        body = {"payload": submitted_payload("idem-1", 1)}
        first = await client.post("/api/v1/contents", json=body)
        replay = await client.post("/api/v1/contents", json=body)
        assert first.status_code == replay.status_code == 202
        assert replay.json() == first.json()
        assert replay.headers.get("idempotent-replay") == "true"
    records = await read_topic(
        live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 1, wait_s=5
    )
    assert len(records) == 1  # the replay produced nothing


async def test_versions_on_postgresql(stack: Stack, pg_url: str, tmp_path: Path) -> None:
    """The ingest's small SQL store works on PostgreSQL too (row locks on the content record)."""
    settings, tokens = ingest_settings(stack, tmp_path)
    settings = settings.model_copy(update={"database_url": pg_url})
    with serve(create_app(settings)) as url:
        async with httpx.AsyncClient(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {tokens['admin']}"}
        ) as client:
            first = await client.post("/api/v1/contents", json={"payload": submitted_payload("pg-1", 1)})
            second = await client.post("/api/v1/contents", json={"payload": submitted_payload("pg-1", 3)})
            stale = await client.post("/api/v1/contents", json={"payload": submitted_payload("pg-1", 2)})
    assert (first.status_code, second.status_code, stale.status_code) == (202, 202, 409)
    assert second.json()["canonical_url"] == first.json()["canonical_url"]


# Ordinary prose of an office's news, each refused by the first release's regex check as
# "executable markup" (issue #19). Titles and plain-text fields are text; bodies are HTML.
PROSE_CONTENTS = [
    ("Khóa học JavaScript: cơ bản", "<p>Khóa học JavaScript: cơ bản cho cán bộ văn thư.</p>"),
    ("Khuyến mãi mua sắm online = 40%", "<p>Mua sắm online = 40% doanh thu bán lẻ quý III.</p>"),
    (
        "Lạm phát <4% và tăng trưởng >6,5%",
        "<p>Lạm phát &lt;4%, tăng trưởng &gt;6,5%; chỉ tiêu onboard = 12.000 doanh nghiệp.</p>",
    ),
    (
        "Tập huấn an toàn thông tin: <script> và onerror=",
        "<p>Thẻ &lt;script&gt; và thuộc tính onerror= là mã độc; không bấm javascript: lạ.</p>",
    ),
]


async def test_prose_that_looks_like_code_is_published_as_written(live_ingest: LiveIngest) -> None:
    live = live_ingest
    async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=live.auth(live.publisher)) as client:
        for n, (title, body) in enumerate(PROSE_CONTENTS):
            payload = submitted_payload(f"prose-{n}", 1)
            payload |= {"title": title, "summary": title, "tags": [title[:100]], "body": body}
            payload["targets"][0]["title"] = title
            response = await client.post("/api/v1/contents", json={"payload": payload})
            assert response.status_code == 202, response.text
    records = await read_topic(
        live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), len(PROSE_CONTENTS)
    )
    events = {r.key: parse_content_event(r.value) for r in records}
    for n, (title, body) in enumerate(PROSE_CONTENTS):
        event = events[f"prose-{n}".encode()]
        assert isinstance(event, ContentApproved)
        assert (event.payload.title, event.payload.summary, event.payload.tags) == (title, title, [title])
        assert event.payload.targets[0].title == title
        assert event.payload.body == body

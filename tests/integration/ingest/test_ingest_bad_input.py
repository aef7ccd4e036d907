"""The bad-input table: every case gets its specific status, error code and field, and leaves no event.

The same payloads produced straight onto Kafka land in the DLQ (``test_ingest_dlq.py``).
"""

from __future__ import annotations

import http.client
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from loa.events import parse_content_event, topics
from tests.integration.ingest.conftest import MEDIA_CAP, LiveIngest
from tests.support.kafka import read_topic
from tests.support.payloads import submitted_payload, with_

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
JPEG = (SAMPLES / "anh-bia.jpg").read_bytes()
ZERO_SHA = "0" * 64


def sub(path: str, value: Any, base: dict[str, Any] | None = None) -> bytes:
    """A submission whose payload has ``path`` set to ``value`` (``...`` removes it)."""
    return json.dumps(
        {"payload": with_(base or submitted_payload("bad-1"), path, value)}, ensure_ascii=False
    ).encode()


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    code: str
    field: str | None
    body: bytes | Callable[[dict[str, Any]], bytes] = b""
    path: str = "/api/v1/contents"
    token: str | None = "publisher"
    headers: dict[str, str] = dc_field(default_factory=dict)
    on_kafka: bool = False
    """The payload is schema-invalid, so it also fails the consumer-side validator."""


def image_ref(ctx: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**ctx["image"], "alt": "Ảnh", **changes}


def media_payload(**changes: Any) -> Callable[[dict[str, Any]], bytes]:
    return lambda ctx: sub("media", [image_ref(ctx, **changes)])


def too_big_stream() -> Any:
    chunk = b"\xff\xd8\xff" + b"\0" * (256 * 1024 - 3)
    yield chunk
    for _ in range(MEDIA_CAP // len(chunk) + 2):
        yield b"\0" * len(chunk)


CASES = [
    # the body itself
    Case("malformed json", 400, "malformed_json", "body", b'{"payload": {"id": '),
    Case("invalid utf-8", 400, "invalid_utf8", "body", b'{"payload": {"title": "\xff\xfe"}}'),
    Case("json array", 422, "validation_error", "(body)", b"[1, 2]", on_kafka=True),
    Case("missing payload", 422, "validation_error", "payload", b"{}", on_kafka=True),
    Case(
        "extra top-level field", 422, "validation_error", "colour", lambda c: b'{"payload": {}, "colour": 1}'
    ),
    # fields of the content
    Case("missing title", 422, "validation_error", "payload.title", sub("title", ...), on_kafka=True),
    Case("title wrong type", 422, "validation_error", "payload.title", sub("title", 42), on_kafka=True),
    Case("empty title", 422, "validation_error", "payload.title", sub("title", ""), on_kafka=True),
    # Above what one Kafka record carries: refused by size before it is parsed.
    Case("10 MB title", 413, "payload_too_large", "body", sub("title", "Đ" * 5_000_000), on_kafka=False),
    Case(
        "600 kB title", 422, "validation_error", "payload.title", sub("title", "Đ" * 300_000), on_kafka=False
    ),
    Case(
        "script after prose in body",
        422,
        "validation_error",
        "payload.body",
        sub("body", "<p>Khóa học JavaScript: cơ bản</p><script>x</script>"),
        on_kafka=True,
    ),
    Case("NUL in title", 422, "validation_error", "payload.title", sub("title", "Tin\x00tức"), on_kafka=True),
    Case(
        "script in body",
        422,
        "validation_error",
        "payload.body",
        sub("body", "<p>a</p><script>alert(1)</script>"),
        on_kafka=True,
    ),
    Case(
        "javascript link",
        422,
        "validation_error",
        "payload.body",
        sub("body", '<a href="javascript:alert(1)">x</a>'),
        on_kafka=True,
    ),
    Case(
        "event handler",
        422,
        "validation_error",
        "payload.body",
        sub("body", '<img src="x" onerror="alert(1)">'),
        on_kafka=True,
    ),
    Case(
        "iframe",
        422,
        "validation_error",
        "payload.body",
        sub("body", '<iframe src="https://evil"></iframe>'),
        on_kafka=True,
    ),
    Case(
        "svg handler in body",
        422,
        "validation_error",
        "payload.body",
        sub("body", "<p>mua sắm online = 40%</p><svg onload=1>"),
        on_kafka=True,
    ),
    Case(
        "naive publish_at",
        422,
        "validation_error",
        "payload.publish_at",
        sub("publish_at", "2026-12-01T09:00:00"),
        on_kafka=True,
    ),
    Case(
        "publish_at 2 years ahead",
        422,
        "validation_error",
        "payload.publish_at",
        sub("publish_at", (datetime.now(UTC) + timedelta(days=730)).isoformat()),
        on_kafka=True,
    ),
    Case(
        "publish_at not a time",
        422,
        "validation_error",
        "payload.publish_at",
        sub("publish_at", "ngày mai"),
        on_kafka=True,
    ),
    Case(
        "naive approved_at",
        422,
        "validation_error",
        "payload.approved_at",
        sub("approved_at", "2026-11-01 08:00"),
        on_kafka=True,
    ),
    Case("version zero", 422, "validation_error", "payload.version", sub("version", 0), on_kafka=True),
    Case(
        "version a string", 422, "validation_error", "payload.version", sub("version", "hai"), on_kafka=True
    ),
    Case("id with ../", 422, "validation_error", "payload.id", sub("id", "../etc/passwd"), on_kafka=True),
    Case("id with spaces", 422, "validation_error", "payload.id", sub("id", "bài viết"), on_kafka=True),
    Case(
        "unknown channel",
        422,
        "unknown_channel",
        "payload.targets.1.channel",
        sub("targets.1.channel", "myspace"),
    ),
    Case("no targets", 422, "validation_error", "payload.targets", sub("targets", []), on_kafka=True),
    Case(
        "duplicate target",
        422,
        "validation_error",
        "payload.targets",
        sub("targets", [{"channel": "x", "account": "a"}, {"channel": "x", "account": "a"}]),
        on_kafka=True,
    ),
    Case(
        "account with slash",
        422,
        "validation_error",
        "payload.targets.0.account",
        sub("targets.0.account", "a/b"),
        on_kafka=True,
    ),
    Case("unknown kind", 422, "validation_error", "payload.kind", sub("kind", "gossip"), on_kafka=True),
    Case(
        "bad language",
        422,
        "validation_error",
        "payload.language",
        sub("language", "Tiếng Việt"),
        on_kafka=True,
    ),
    Case(
        "unknown payload field", 422, "validation_error", "payload.colour", sub("colour", "đỏ"), on_kafka=True
    ),
    Case(
        "51 tags",
        422,
        "validation_error",
        "payload.tags",
        sub("tags", [f"thẻ {i}" for i in range(51)]),
        on_kafka=True,
    ),
    Case(
        "duplicate tags",
        422,
        "validation_error",
        "payload.tags",
        sub("tags", ["Đảng", "đảng"]),
        on_kafka=True,
    ),
    Case(
        "canonical_url not a URL",
        422,
        "validation_error",
        "payload.canonical_url",
        sub("canonical_url", "trang chủ"),
        on_kafka=True,
    ),
    # media references
    Case(
        "media key with ../",
        422,
        "validation_error",
        "payload.media.0.key",
        media_payload(key="sha256/../../secret"),
        on_kafka=True,
    ),
    Case(
        "http URL instead of key",
        422,
        "validation_error",
        "payload.media.0.key",
        media_payload(key="http://evil.example/a.jpg"),
        on_kafka=True,
    ),
    Case(
        "sha256 does not match the key",
        422,
        "validation_error",
        "payload.media.0",
        media_payload(sha256=ZERO_SHA),
        on_kafka=True,
    ),
    Case(
        "media not uploaded",
        422,
        "media_not_found",
        "payload.media.0.key",
        media_payload(key=f"sha256/{ZERO_SHA}", sha256=ZERO_SHA),
    ),
    Case(
        "media size mismatch",
        422,
        "media_mismatch",
        "payload.media.0.size",
        lambda c: sub("media", [image_ref(c, size=c["image"]["size"] + 1)]),
    ),
    Case(
        "media type mismatch",
        422,
        "media_mismatch",
        "payload.media.0.content_type",
        media_payload(content_type="video/mp4"),
    ),
    Case("image without alt text", 422, "alt_text_missing", "payload.media.0.alt", media_payload(alt="")),
    Case(
        "image with blank alt text", 422, "alt_text_missing", "payload.media.0.alt", media_payload(alt="  ")
    ),
    Case(
        "media type not image/video",
        422,
        "validation_error",
        "payload.media.0.content_type",
        media_payload(content_type="text/html"),
        on_kafka=True,
    ),
    # authentication and roles
    Case("missing token", 401, "unauthorized", None, sub("title", "x"), token=None),
    Case("wrong token", 401, "unauthorized", None, sub("title", "x"), token="nope"),
    Case(
        "basic auth",
        401,
        "unauthorized",
        None,
        sub("title", "x"),
        token=None,
        headers={"Authorization": "Basic YTpi"},
    ),
    Case("uploader submits content", 403, "forbidden", None, sub("title", "x"), token="uploader"),
    Case(
        "publisher retracts",
        403,
        "forbidden",
        None,
        b'{"reason": "sai"}',
        path="/api/v1/contents/seed-1/retract",
    ),
    # conflicts
    Case(
        "replayed Idempotency-Key, other body",
        409,
        "idempotency_key_reused",
        "Idempotency-Key",
        lambda c: json.dumps({"payload": submitted_payload("seed-2", 1)}).encode(),
        headers={"Idempotency-Key": "seed-key"},
    ),
    Case(
        "same version again",
        409,
        "version_conflict",
        "payload.version",
        lambda c: json.dumps({"payload": submitted_payload("seed-1", 1)}).encode(),
    ),
    Case(
        "retract without reason",
        422,
        "validation_error",
        "reason",
        b"{}",
        path="/api/v1/contents/seed-1/retract",
        token="admin",
    ),
    Case(
        "retract unknown id",
        404,
        "not_found",
        None,
        b'{"reason": "sai"}',
        path="/api/v1/contents/khong-co/retract",
        token="admin",
    ),
    Case(
        "retract bad id",
        422,
        "validation_error",
        "id",
        b'{"reason": "sai"}',
        path="/api/v1/contents/a%20b/retract",
        token="admin",
    ),
    # media uploads
    Case(
        "upload text/html",
        415,
        "unsupported_media_type",
        "Content-Type",
        b"<html>",
        path="/api/v1/media",
        headers={"Content-Type": "text/html"},
    ),
    Case("upload without type", 415, "unsupported_media_type", "Content-Type", JPEG, path="/api/v1/media"),
    Case(
        "upload not what it says",
        415,
        "content_mismatch",
        "Content-Type",
        b"GIF89a" + b"\0" * 100,
        path="/api/v1/media",
        headers={"Content-Type": "image/png"},
    ),
    Case(
        "upload empty",
        422,
        "empty_body",
        "body",
        b"",
        path="/api/v1/media",
        headers={"Content-Type": "image/jpeg"},
    ),
    Case(
        "upload declared too big",
        413,
        "payload_too_large",
        "Content-Length",
        JPEG,
        path="/api/v1/media",
        headers={"Content-Type": "image/jpeg", "Content-Length": str(MEDIA_CAP + 1)},
    ),
    Case(
        "upload with a malformed sha256 header",
        400,
        "bad_request",
        "X-Content-SHA256",
        JPEG,
        path="/api/v1/media",
        headers={"Content-Type": "image/jpeg", "X-Content-SHA256": "abc"},
    ),
    Case(
        "upload whose bytes do not match the declared sha256",
        422,
        "sha256_mismatch",
        "X-Content-SHA256",
        JPEG,
        path="/api/v1/media",
        headers={"Content-Type": "image/jpeg", "X-Content-SHA256": "1" * 64},
    ),
    Case(
        "upload without token",
        401,
        "unauthorized",
        None,
        JPEG,
        path="/api/v1/media",
        token=None,
        headers={"Content-Type": "image/jpeg"},
    ),
]


@pytest.fixture(scope="module")
def seeded(module_ingest: LiveIngest) -> dict[str, Any]:
    """A known upload, a content at version 1 and a used Idempotency-Key, for the cases that need them."""
    live = module_ingest
    with httpx.Client(base_url=live.url, timeout=30, headers=live.auth(live.admin)) as client:
        image = client.post("/api/v1/media", content=JPEG, headers={"Content-Type": "image/jpeg"})
        assert image.status_code == 201, image.text
        seed = client.post(
            "/api/v1/contents",
            json={"payload": submitted_payload("seed-1", 1)},
            headers={**live.auth(live.publisher), "Idempotency-Key": "seed-key"},
        )
        assert seed.status_code == 202, seed.text
    return {"image": {k: v for k, v in image.json().items() if v is not None}}


def _send(live: LiveIngest, case: Case, ctx: dict[str, Any]) -> httpx.Response:
    body = case.body(ctx) if callable(case.body) else case.body
    tokens = {"publisher": live.publisher, "uploader": live.uploader, "admin": live.admin}
    headers = {"Content-Type": "application/json"} if case.path != "/api/v1/media" else {}
    if case.token is not None:
        headers["Authorization"] = f"Bearer {tokens.get(case.token, case.token)}"
    headers.update(case.headers)
    if "Content-Length" in case.headers:  # a lying Content-Length: httpx would refuse to send it
        return _raw_post(live.url, case.path, body, headers)
    with httpx.Client(base_url=live.url, timeout=60) as client:
        return client.post(case.path, content=body, headers=headers)


def _raw_post(url: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", path)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        return httpx.Response(answer.status, headers=dict(answer.getheaders()), content=answer.read())
    finally:
        conn.close()


def test_the_table_has_enough_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(module_ingest: LiveIngest, seeded: dict[str, Any], case: Case) -> None:
    response = _send(module_ingest, case, seeded)
    assert response.status_code == case.status, response.text[:500]
    error = response.json()["error"]
    assert error["code"] == case.code
    assert error["message"]
    if case.field is not None:
        assert case.field in [f["field"] for f in error["fields"]], error["fields"]
    if case.status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    for token in (module_ingest.admin, module_ingest.publisher, module_ingest.uploader):
        assert token not in response.text


def test_oversize_streamed_upload_is_refused_while_streaming(module_ingest: LiveIngest) -> None:
    live = module_ingest
    with httpx.Client(base_url=live.url, timeout=60) as client:
        response = client.post(
            "/api/v1/media",
            content=too_big_stream(),  # chunked: no Content-Length to trust
            headers={**live.auth(live.uploader), "Content-Type": "image/jpeg"},
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    store_objects = list(
        __import__("loa.media", fromlist=["MediaStore"])
        .MediaStore(live.settings)
        .client.list_objects(live.settings.s3_media_bucket, prefix="staging/", recursive=True)
    )
    assert store_objects == []  # the aborted upload left nothing behind


def test_nfd_text_is_accepted_and_normalised(module_ingest: LiveIngest) -> None:
    live = module_ingest
    payload = submitted_payload("nfd-1", 1)
    payload["title"] = unicodedata.normalize("NFD", "Đại hội đại biểu toàn quốc")
    payload["tags"] = [unicodedata.normalize("NFD", "Nghị quyết")]
    with httpx.Client(base_url=live.url, timeout=30, headers=live.auth(live.publisher)) as client:
        response = client.post("/api/v1/contents", json={"payload": payload})
    assert response.status_code == 202, response.text


async def test_refused_requests_left_no_event(module_ingest: LiveIngest, seeded: dict[str, Any]) -> None:
    """Only the seed and the NFD content were accepted; nothing of the bad cases is on the topic."""
    live = module_ingest
    records = await read_topic(
        live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 2, wait_s=10
    )
    events = [parse_content_event(r.value) for r in records]
    ids = sorted(e.payload.id for e in events)
    assert ids == ["nfd-1", "seed-1"]
    nfd = next(e for e in events if e.payload.id == "nfd-1")
    assert nfd.payload.title == "Đại hội đại biểu toàn quốc"  # type: ignore[union-attr]
    assert unicodedata.is_normalized("NFC", nfd.payload.tags[0])  # type: ignore[union-attr]

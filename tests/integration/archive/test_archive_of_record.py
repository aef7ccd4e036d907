"""The archive of record on the real stack (Kafka, MinIO): a press release published, corrected and
retracted is exported by ``loa archive export`` with every version, every payload and every
platform answer, and ``loa archive verify`` passes it; a changed file fails, naming the file.

The archiver runs as its process does (uvicorn, lifespan) in this test's topics; its bucket is this
test's own, made with object lock by the archiver and emptied at the end with the root user's
governance bypass (``remove_objects(bypass_governance_mode=True)``).
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from minio import Minio
from minio.error import S3Error
from typer.testing import CliRunner

from loa.archive import signing
from loa.archive.bundle import build_zip, collect, verify
from loa.archive.payload import sent_payload
from loa.archive.records import Source, sha256_hex
from loa.archive.retention import Retention
from loa.archive.store import ArchiveStore, payload_key
from loa.channels import Post
from loa.cli.main import app as cli
from loa.events import (
    ContentKind,
    ContentRetracted,
    ContentUpdated,
    DeliveryState,
    DeliveryStatus,
    ErrorClass,
    Retraction,
    topics,
)
from loa.settings import LoaSettings
from loa.testing.cleanup import drop_locked_bucket
from tests.conftest import S3_BACKEND, Stack
from tests.integration.tracker.support import approved, create_topics, eventually, producer, send, status
from tests.support.archive import archiver_settings, running_archiver

pytestmark = pytest.mark.integration

CID = "thong-cao-xuc-tien-dau-tu-2026"
TITLE_V2 = "Đính chính: Đà Nẵng thu hút 1.250 tỷ đồng đầu tư (không phải 12.500 tỷ đồng)"
FB = ("facebook", "so-ttt-da-nang")
WEB = ("website", "main")


def post(version: int, title: str) -> Post:
    return Post(
        content_id=CID,
        version=version,
        channel=FB[0],
        account=FB[1],
        marker=f"loa:{CID}:v{version}",
        title=title,
        texts=[f"{title}\nChi tiết: https://example.gov.vn/{CID}"],
        payload={"link": f"https://example.gov.vn/{CID}", "alt": "Ảnh Hội nghị tại Đà Nẵng"},
    )


def answer(
    state: DeliveryState,
    seq: int,
    version: int,
    sha: str | None,
    target: tuple[str, str] = FB,
    error: tuple[ErrorClass, str, str] | None = None,
) -> DeliveryStatus:
    event = status(CID, target[0], target[1], state, seq, error=error)
    payload = event.payload.model_copy(update={"version": version, "payload_sha256": sha})
    return event.model_copy(update={"payload": payload})


def story(sha1: str | None, sha2: str | None) -> list[tuple[str, Any]]:
    """Published (Facebook; the website refuses it), corrected (v2 edits the post), retracted."""
    v1 = approved(CID, targets=[FB, WEB])
    content = v1.payload.model_copy(update={"kind": ContentKind.PRESS_RELEASE})
    v1 = v1.model_copy(update={"payload": content})
    v2 = ContentUpdated(payload=content.model_copy(update={"version": 2, "title": TITLE_V2}))
    gone = ContentRetracted(
        payload=Retraction(id=CID, reason="Gỡ theo yêu cầu của Sở Tài chính", requested_by="Trần Văn Đức")
    )
    refused = (ErrorClass.PERMANENT, "413", "Bài quá dài cho trang chủ (đã vượt giới hạn)")
    return [
        (topics.CONTENT, v1),
        (topics.DELIVERY, answer(DeliveryState.PUBLISHING, 1, 1, sha1)),
        (topics.DELIVERY, answer(DeliveryState.PUBLISHED, 2, 1, sha1)),
        (topics.DELIVERY, answer(DeliveryState.FAILED, 1, 1, None, WEB, refused)),
        (topics.CONTENT, v2),
        (topics.DELIVERY, answer(DeliveryState.PUBLISHED, 3, 2, sha2)),
        (topics.CONTENT, gone),
        (topics.DELIVERY, answer(DeliveryState.RETRACTED, 4, 2, sha2)),
    ]


def cli_env(stack: Stack, bucket: str, private: str) -> dict[str, str]:
    return {
        "LOA_S3_ENDPOINT": stack.s3_endpoint,
        "LOA_S3_ACCESS_KEY": stack.s3_access_key,
        "LOA_S3_SECRET_KEY": stack.s3_secret_key,
        "LOA_S3_ARCHIVE_BUCKET": bucket,
        "LOA_ARCHIVE_SIGNING_KEY": private,
    }


def rewritten(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The same ZIP with ``name``'s bytes changed (manifest and signature as they were)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.namelist():
            body = old.read(item)
            new.writestr(item, change(body) if item == name else body)
    return out.getvalue()


async def test_published_corrected_retracted_exports_whole_and_verifies(
    settings: LoaSettings, stack: Stack, archive_bucket: str, minio_client: Minio, tmp_path: Path
) -> None:
    await create_topics(settings)
    private = signing.new_private_b64()
    public = signing.public_b64(signing.private_key(private))
    archive = archiver_settings(settings, archive_bucket, "press_release=2d,default=1d")
    posts = [post(1, "Đà Nẵng thu hút 12.500 tỷ đồng đầu tư"), post(2, TITLE_V2)]
    shas = [sha256_hex(sent_payload(p)) for p in posts]
    store = ArchiveStore(minio_client, archive_bucket)
    events = story(*shas)
    async with running_archiver(archive), producer(settings) as p:
        for item, sha in zip(posts, shas, strict=True):  # what the Facebook publisher's relay sends
            await p.send_and_wait(settings.topic(topics.PAYLOAD), sent_payload(item), key=sha.encode())
        for topic, event in events:
            await send(p, settings, topic, [event])
        await send(p, settings, topics.DELIVERY, [events[2][1]])  # read twice: archived once

        async def all_archived() -> bool:
            records = await asyncio.to_thread(store.keys, f"records/{CID}/")
            return len(records) >= len(events) and len(await asyncio.to_thread(store.keys, "payloads/")) == 2

        await eventually(all_archived, within=30, what="every event and payload archived")
        await asyncio.sleep(1.0)  # the duplicate, had it been archived, would show by now

    keys = store.keys(f"records/{CID}/")
    assert len(keys) == len(events)

    if S3_BACKEND == "minio":  # object lock: retained per its kind; a plain delete of the version refused
        retention = minio_client.get_object_retention(archive_bucket, keys[0])
        assert retention is not None and retention.mode == "GOVERNANCE"
        until = retention.retain_until_date
        assert until is not None and timedelta(days=1.9) < until - datetime.now(UTC) <= timedelta(days=2)
        versions = minio_client.list_objects(archive_bucket, prefix=keys[0], include_version=True)
        with pytest.raises(S3Error) as refused:
            minio_client.remove_object(archive_bucket, keys[0], version_id=next(versions).version_id)
        # MinIO (cmd/api-errors.go ErrObjectLocked): "Object is WORM protected and cannot be overwritten"
        assert refused.value.code == "InvalidRequest" and "WORM protected" in (refused.value.message or "")

    runner = CliRunner()
    env = cli_env(stack, archive_bucket, private)
    export = tmp_path / "thong-cao.zip"
    result = runner.invoke(cli, ["archive", "export", "--content-id", CID, "-o", str(export)], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["archive", "verify", str(export), "--public-key", public], env=env)
    assert result.exit_code == 0, result.output
    assert f"{len(events)} records of 1 contents" in result.output

    with zipfile.ZipFile(export) as z:
        records = [json.loads(z.read(k)) for k in keys]
        stored = {sha: z.read(payload_key(sha)) for sha in shas}
    # every event once, with the bytes that came off Kafka; each topic's events in their order (the
    # chain is the archive's order: a content event and an answer on two topics may be read either way)
    sent = {str(e.event_id): sha256_hex(e.model_dump_json().encode()) for _, e in events}
    assert {r["event"]["event_id"]: r["event_sha256"] for r in records} == sent
    by_topic = {
        t: [r["event"] for r in records if r["source"]["topic"] == t]
        for t in (topics.CONTENT, topics.DELIVERY)
    }
    assert [e["type"] for e in by_topic[topics.CONTENT]] == [
        "content.approved",
        "content.updated",
        "content.retracted",
    ]
    assert by_topic[topics.CONTENT][1]["payload"]["title"] == TITLE_V2
    assert by_topic[topics.CONTENT][2]["payload"]["reason"] == "Gỡ theo yêu cầu của Sở Tài chính"
    answers = by_topic[topics.DELIVERY]
    assert [(a["payload"]["version"], a["payload"]["state"]) for a in answers] == [
        (1, "publishing"),
        (1, "published"),
        (1, "failed"),
        (2, "published"),
        (2, "retracted"),
    ]
    assert records[-1]["content_kind"] == "press_release"
    # every payload: exactly what was sent, per version
    assert stored == {sha: sent_payload(item) for sha, item in zip(shas, posts, strict=True)}
    # every platform answer: ids, links, errors
    published = answers[1]["payload"]
    assert published["external_id"] == f"{FB[1]}_{CID}" and published["public_url"].startswith("https://")
    assert published["payload_sha256"] == shas[0] and answers[3]["payload"]["payload_sha256"] == shas[1]
    assert answers[2]["payload"]["error"]["code"] == "413"

    # a record changed after the export: the check names it (and the record after it)
    at = next(i for i, r in enumerate(records) if r["event"]["payload"].get("state") == "published")
    tampered = tmp_path / "sua.zip"
    changed = rewritten(export.read_bytes(), keys[at], lambda b: b.replace(b"https://", b"https://gia-"))
    tampered.write_bytes(changed)
    result = runner.invoke(cli, ["archive", "verify", str(tampered), "--public-key", public], env=env)
    assert result.exit_code == 1
    assert f"{keys[at]}: SHA-256 differs from the manifest's" in result.output
    assert f"{keys[at + 1]}: prev_sha256 does not match the record before it" in result.output

    # a manifest rewritten to match, signed by any other key: the signature fails
    other = signing.public_b64(signing.private_key(signing.new_private_b64()))
    result = runner.invoke(cli, ["archive", "verify", str(export), "--public-key", other], env=env)
    assert result.exit_code == 1 and "manifest.sig: not a signature" in result.output


def test_without_object_lock_the_chain_alone_shows_tampering(
    minio_client: Minio, unique: Callable[[str], str]
) -> None:
    """A bucket made without object lock (as on a store without the feature, or one made before):
    the store says so, records go without a retention, and the export's check still names a change."""
    bucket = unique("archive-plain")
    minio_client.make_bucket(bucket)
    try:
        store = ArchiveStore(minio_client, bucket)
        assert not store.lock_supported()
        retention = Retention.parse("default=1d")
        lost = sha256_hex(b"a payload its publisher could not store")
        events = story(None, lost)
        for n, (topic, event) in enumerate(events):
            payload = event.payload
            cid = getattr(payload, "content_id", None) or payload.id
            appended = store.append(cid, str(event.event_id), event.model_dump_json().encode(),
                                    Source(topic, 0, n), None, retention.until)  # fmt: skip
            assert appended is not None and not appended.locked
        key = signing.private_key(signing.new_private_b64())
        data = build_zip(collect(store, [CID]), {"content_ids": [CID]}, key)
        naming = [k for k in store.keys(f"records/{CID}/") if lost.encode() in store.read(k)]
        assert (
            len(naming) == 2
        )  # v2 published, then retracted: each names the payload, which is named missing
        assert verify(data, key.public_key()).problems == [
            f"{k}: names payload {lost}, which the export lacks" for k in naming
        ]
        middle = store.keys(f"records/{CID}/")[3]  # the website's refusal, code 413
        tampered = rewritten(data, middle, lambda b: b.replace(b"413", b"200"))
        assert f"{middle}: SHA-256 differs from the manifest's" in verify(tampered, key.public_key()).problems
    finally:
        drop_locked_bucket(minio_client, bucket)

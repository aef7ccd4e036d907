"""``loa.payload.v1`` into the archive: the archiver stores each payload under its SHA-256 and
refuses, to the topic's dead letters with the reason, a record whose key is not the hash of its
value or whose value is not a rendered post; then it goes on. It alone reads the topic, so it owns
those dead letters (``loa.kafka_acl``)."""

from __future__ import annotations

import asyncio

import pytest
from minio import Minio

from loa.archive.payload import sent_payload
from loa.archive.records import canonical_json, sha256_hex
from loa.archive.store import ArchiveStore, payload_key
from loa.channels import Post
from loa.events import topics
from loa.settings import LoaSettings
from tests.conftest import S3_BACKEND
from tests.integration.tracker.support import create_topics, eventually, producer
from tests.support.archive import archiver_settings, running_archiver
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

SENT = sent_payload(
    Post(
        content_id="tb-dat-dai-2026",
        version=1,
        channel="zalo",
        account="so-tnmt-dong-nai",
        marker="loa:tb-dat-dai-2026",
        title="Đồng Nai: công khai bảng giá đất điều chỉnh năm 2026",
        texts=["Sở Tài nguyên và Môi trường đề nghị người dân góp ý trước ngày 20/12."],
        progress={"upload_session": "not what was sent"},
    )
)
AFTER = sent_payload(
    Post(
        content_id="tb-dat-dai-2026",
        version=2,
        channel="x",
        account="so-tnmt",
        marker="loa:v2",
        texts=["Đính chính."],
    )
)
NOT_A_POST = canonical_json({"content_id": "tb-dat-dai-2026", "texts": ["thiếu kênh"]})


async def test_payloads_are_stored_under_their_hash_and_forgeries_dead_lettered(
    settings: LoaSettings, archive_bucket: str, minio_client: Minio
) -> None:
    await create_topics(settings)
    topic = settings.topic(topics.PAYLOAD)
    refused = {
        "key_mismatch": (sha256_hex(b"something else"), SENT),  # would file SENT under another name
        "unparseable": (sha256_hex(b"<p>not json</p>"), b"<p>not json</p>"),
        "invalid": (sha256_hex(NOT_A_POST), NOT_A_POST),  # JSON, but not a post: no channel...
    }
    async with producer(settings) as p:
        await p.send_and_wait(topic, SENT, key=sha256_hex(SENT).encode())
        for key, value in refused.values():
            await p.send_and_wait(topic, value, key=key.encode())
        await p.send_and_wait(topic, AFTER, key=sha256_hex(AFTER).encode())  # the consumer goes on
        await p.send_and_wait(topic, SENT, key=sha256_hex(SENT).encode())  # a retry: stored once

    store = ArchiveStore(minio_client, archive_bucket)
    async with running_archiver(archiver_settings(settings, archive_bucket)):
        letters = await read_topic(settings.kafka_bootstrap, settings.topic(topics.dlq(topics.PAYLOAD)), 3)

        async def both_stored() -> bool:
            return len(await asyncio.to_thread(store.keys, "payloads/")) >= 2

        await eventually(both_stored, within=30, what="both payloads stored")

    assert store.keys("payloads/") == sorted(payload_key(sha256_hex(b)) for b in (SENT, AFTER))
    assert store.read(payload_key(sha256_hex(SENT))) == SENT
    assert b"upload_session" not in SENT  # progress is not what was sent
    if S3_BACKEND == "minio":  # versioned (object lock): the retry was remembered, not a second version
        versions = minio_client.list_objects(
            archive_bucket, prefix=payload_key(sha256_hex(SENT)), include_version=True
        )
        assert len(list(versions)) == 1
    by_kind = {letter.headers["loa-dlq-error"]: letter for letter in letters}
    assert set(by_kind) == set(refused)
    for kind, (key, value) in refused.items():
        assert (by_kind[kind].key, by_kind[kind].value) == (key.encode(), value)  # as it came
    assert "is not the value's SHA-256" in by_kind["key_mismatch"].headers["loa-dlq-reason"]
    assert "Invalid JSON" in by_kind["unparseable"].headers["loa-dlq-reason"]
    assert "channel: Field required" in by_kind["invalid"].headers["loa-dlq-reason"]
